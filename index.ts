// fastify-session-security: logs out authenticated users after a period of inactivity, and serves
// the browser client that warns them before it does. See DESIGN.md for the contract.
import fastifyStatic from '@fastify/static'
import type { FastifyContextConfig, FastifyInstance, FastifyPluginCallback } from 'fastify'
import fp from 'fastify-plugin'
import { createActivityRecorder } from './lib/activity.js'
import { assetCacheControl, publicDir, version } from './lib/assets.js'
import { PersistentCookieError } from './lib/errors.js'
import { createOnRequestHook } from './lib/hook.js'
import { buildSettings, checkOptions, type Settings } from './lib/options.js'
import { createPassiveMatcher } from './lib/passive.js'
import { createPingHandler } from './lib/ping.js'
import { createSnippet } from './lib/snippet.js'
import { kExpireAfter, kLastActivity, kPingRoute } from './lib/symbols.js'
import type { SessionSecurityOptions } from './types/index.js'

/**
 * @fastify/session keeps its cookie options to itself; a session made by its public
 * `decryptSession` for an id that does not verify carries them, so a persistent cookie is seen at
 * registration. A custom idGenerator that needs a real request makes this probe throw: the check
 * then happens on each authenticated request instead.
 */
function hasPersistentCookie (fastify: FastifyInstance): boolean {
  const probe = { protocol: 'https', headers: {} } as unknown as Parameters<FastifyInstance['decryptSession']>[1]
  try {
    fastify.decryptSession('', probe, () => {})
  } catch {
    return false
  }
  const cookie = (probe as { session?: { cookie?: { originalMaxAge?: number | null, expires?: Date | null } } }).session?.cookie
  return Boolean(cookie?.originalMaxAge || cookie?.expires)
}

function registerRoutes (fastify: FastifyInstance, settings: Settings, ping: ReturnType<typeof createPingHandler>): void {
  // An encapsulated context: the ping route and @fastify/static leak nothing into the application.
  fastify.register(async function sessionSecurityRoutes (routes) {
    routes.addHook('onRoute', function markPassive (route) {
      route.config = { ...route.config, sessionSecurity: { passive: true } }
    })
    routes.get(settings.pingUrl, { config: { [kPingRoute]: true } as FastifyContextConfig }, ping)
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

const sessionSecurity: FastifyPluginCallback<SessionSecurityOptions> = function sessionSecurity (fastify, options, done) {
  let settings: Settings
  try {
    checkOptions(options)
    settings = buildSettings(options)
    if (!settings.insecure && hasPersistentCookie(fastify)) throw new PersistentCookieError()
  } catch (err) {
    done(err as Error)
    return
  }

  const recorder = createActivityRecorder(settings)
  fastify.decorateRequest(kExpireAfter, 0)
  fastify.decorateRequest(kLastActivity, 0)
  fastify.addHook('onRequest', createOnRequestHook({
    settings,
    recorder,
    isPassive: createPassiveMatcher(settings),
    fastify
  }))
  registerRoutes(fastify, settings, createPingHandler(recorder))
  fastify.decorate('sessionSecurity', Object.freeze({
    snippet: createSnippet(settings, version),
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
export { InvalidExpireAfterResultError, InvalidOptionError, PersistentCookieError, WarnAfterNotBelowExpireError } from './lib/errors.js'
export type * from './types/index.js'
