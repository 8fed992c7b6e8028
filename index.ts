// fastify-session-security: logs out authenticated users after a period of inactivity or at the
// end of their sign-in's absolute lifetime, tells pages and APIs why, and serves the browser client
// that warns users before it happens.
import fastifyStatic from '@fastify/static'
import type { FastifyContextConfig, FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { createActivityRecorder, type ActivityRecorder, type SecurityStore } from './lib/activity.js'
import { assetCacheControl, publicDir, version } from './lib/assets.js'
import { createTracker, cookieProblem } from './lib/hook.js'
import { buildSettings, checkOptions, type Settings } from './lib/options.js'
import { createPingHandler } from './lib/ping.js'
import { sessionCookieOptions } from './lib/session.js'
import { createSnippet } from './lib/snippet.js'
import { decorateState, signedOut, snippetRendered, stateOf } from './lib/state.js'
import type { EndReason } from './lib/store.js'
import { kPluginRoute, rotationOf } from './lib/symbols.js'
import { createActivityRule, type ActivityRule } from './lib/user-activity.js'
import type { SessionExpiry, SessionSecurityOptions } from './types/index.js'

function registerRoutes (fastify: FastifyInstance, settings: Settings, ping: ReturnType<typeof createPingHandler>): void {
  // An encapsulated context: the ping route and @fastify/static leak nothing into the application.
  fastify.register(async function sessionSecurityRoutes (routes) {
    routes.addHook('onRoute', function markPluginRoute (route) {
      route.config = { ...route.config, [kPluginRoute]: true } as FastifyContextConfig
    })
    routes.get(settings.pingUrl, ping)
    await routes.register(fastifyStatic, {
      root: publicDir,
      prefix: settings.staticPrefix,
      decorateReply: false,
      wildcard: false,
      cacheControl: false,
      setHeaders (reply) {
        reply.header('cache-control', assetCacheControl(reply.request.url))
      }
    })
  })
}

/** Why the request's session ended, for the application's guard; null while it has not. */
function sessionExpiry (this: FastifyRequest): SessionExpiry | null {
  const state = stateOf(this)
  return state.status === 'signed-out' ? { reason: state.reason, idleFor: state.idleFor } : null
}

/**
 * One onSend hook, after @fastify/session's (which saves the session). A sign-in (or a rotation of
 * the session id) saved a session without a last activity in this request: its first activity is
 * written now, with the idle TTL of this user, so a session that is never used again leaves Redis
 * within the idle timeout. (The request may have come with the cookie of a session that ended: the
 * browser keeps it after an expiry, and the sign-in page is where it goes next; what counts is the
 * session saved now.) The response tells the browser and API clients what happened:
 * `Session-Expired` when the session ended (here or before), `Clear-Site-Data` when this request
 * ended it, and `no-store` on pages that include the client, so that Back never shows them from
 * the HTTP cache. No onResponse hook: with one, Fastify sets up response listeners and runs a hook
 * chain on every request, which an application on @fastify/session alone does not pay.
 */
function createOnSend (settings: Settings, recorder: ActivityRecorder, tracker: ReturnType<typeof createTracker>) {
  const { clearSiteData, noStore } = settings

  function tell (request: FastifyRequest, reply: FastifyReply): void {
    const state = stateOf(request)
    if (state.status === 'signed-out') {
      reply.header('session-expired', state.reason)
      if (state.endedHere && clearSiteData !== undefined) reply.header('clear-site-data', clearSiteData)
    } else if (noStore && snippetRendered(request) && !reply.hasHeader('cache-control')) {
      reply.header('cache-control', 'no-store')
    }
  }

  /**
   * The request saved a session whose key has no activity write of this request: a sign-in, or a
   * signed-in request that rotated the session id (`regenerate`, with or without the plugin's
   * fields: the activity was written to the old key). Either way the saved key must get its
   * activity and idle TTL now: a session with none would count as a new sign-in on its next
   * request, however late, and never be idle; a rotated one would keep the store's TTL.
   */
  function savedWithoutActivity (request: FastifyRequest): boolean {
    const session = request.session
    if (session == null || session.isSaved?.() !== true || recorder.securityStore(request) === undefined) return false
    if (session._session_security === undefined) return true
    const state = stateOf(request)
    return state.status === 'signed-in' && state.sessionId !== session.sessionId
  }

  async function recordSignIn (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    try {
      if (!await settings.isAuthenticated(request)) return
      await tracker.track(request, reply, true)
    } catch (err) {
      request.log.warn({ err }, 'fastify-session-security: could not record the sign-in')
    }
  }

  /**
   * A signed-in request that rotated the session id (`regenerate`) after its session ended
   * elsewhere (a sign-out in another tab, the expiry on another instance) saved the user under the
   * new id, as SessionSecurityStore noted: the new id ends too, with the same reason, and the
   * request is told as any request of the old session would be. onExpire is not called again:
   * whoever ended the session did.
   */
  async function endRotatedAfterEnd (request: FastifyRequest, reason: EndReason): Promise<void> {
    try {
      await (recorder.securityStore(request) as SecurityStore).end(request.session.sessionId, reason)
    } catch (err) {
      request.log.error({ err }, 'fastify-session-security: could not end a session rotated after its session ended')
    }
    signedOut(request, reason, 0, false)
  }

  function writeSavedSession (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const endedBefore = stateOf(request).status === 'signed-in' ? rotationOf(request.session)?.endedBefore : undefined
    return endedBefore === undefined ? recordSignIn(request, reply) : endRotatedAfterEnd(request, endedBefore)
  }

  // Callback style: the requests that saved no new session (nearly all) allocate no promise.
  return function sessionSecurityOnSend (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, payload: unknown) => void): void {
    tell(request, reply)
    if (!savedWithoutActivity(request)) {
      done(null, payload)
      return
    }
    writeSavedSession(request, reply).then(() => {
      // The sign-in's own write may have ended it (a kept sign-in instant already past the absolute end).
      tell(request, reply)
      done(null, payload)
    }).catch((err: unknown) => {
      // Fastify may have answered meanwhile (its handler timeout): the answer cannot be written
      // twice. Never an unhandled rejection.
      request.log.error({ err }, 'fastify-session-security: could not send the answer after the sign-in write')
    })
  }
}

const sessionSecurity: FastifyPluginCallback<SessionSecurityOptions> = function sessionSecurity (fastify, options, done) {
  let settings: Settings
  try {
    checkOptions(options)
    settings = buildSettings(options)
    const problem = settings.insecure ? undefined : cookieProblem(sessionCookieOptions(fastify))
    if (problem !== undefined) throw problem
  } catch (err) {
    done(err as Error)
    return
  }

  const recorder = createActivityRecorder(settings)
  const rule: ActivityRule = createActivityRule(settings)
  const tracker = createTracker({ settings, recorder, rule, fastify })
  decorateState(fastify)
  fastify.decorateRequest('sessionExpiry', { getter: sessionExpiry })
  fastify.addHook('onRequest', tracker.onRequest)
  fastify.addHook('onSend', createOnSend(settings, recorder, tracker))
  registerRoutes(fastify, settings, createPingHandler(tracker, rule, recorder.clock))
  fastify.decorate('sessionSecurity', Object.freeze({
    snippet: createSnippet(settings, version, recorder.clock),
    pingUrl: settings.pingUrl,
    staticPrefix: settings.staticPrefix
  }))
  done()
}

export default fp(sessionSecurity, {
  fastify: '5.x',
  name: 'fastify-session-security',
  dependencies: ['@fastify/cookie', '@fastify/session']
})
export { sessionSecurity }
export {
  CrossSiteCookieError, InvalidAbsoluteTimeoutResultError, InvalidExpireAfterResultError, InvalidOptionError,
  LogoutFailedError, PersistentCookieError, WarnAfterNotBelowExpireError
} from './lib/errors.js'
export { expireChannel } from './lib/hook.js'
export { refusedChannel } from './lib/user-activity.js'
export type * from './types/index.js'
