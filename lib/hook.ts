// The onRequest hook: runs after @fastify/session has loaded the session, on every route
// including 404s, and applies DESIGN.md section 5 in order.
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import type { ActivityRecorder } from './activity.js'
import { idleSeconds, parseActivity } from './clock.js'
import { PersistentCookieError } from './errors.js'
import { expireAfterFor, type Settings } from './options.js'
import { mayReportActivity } from './ping.js'
import { kExpireAfter, kLastActivity } from './symbols.js'
import type { ExpireReason } from '../types/index.js'

type Done = (err?: Error) => void

export interface HookParts {
  settings: Settings
  recorder: ActivityRecorder
  isPassive: (request: FastifyRequest) => boolean
  /** The instance that @fastify/session decorated, for its `decryptSession`. */
  fastify: FastifyInstance
}

function isThenable (value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function'
}

/** Finishes a step that was either synchronous (undefined) or a promise. */
function settle (result: PromiseLike<void> | undefined, done: Done): void {
  if (result === undefined) done()
  else result.then(() => done(), done)
}

export function createOnRequestHook ({ settings, recorder, isPassive, fastify }: HookParts): onRequestHookHandler {
  const { activityResolutionMs, onExpire, insecure } = settings
  const logout = settings.logout ?? defaultLogout

  /**
   * The default logout: the old session leaves the store, and the request goes on with a fresh
   * session that is not saved, so no key for this user is left behind and no cookie is set for
   * the dead id (@fastify/session clears it). `decryptSession` with an id that cannot be unsigned
   * is @fastify/session's public way to get such a fresh session.
   */
  function defaultLogout (request: FastifyRequest): Promise<void> {
    return new Promise((resolve, reject) => {
      request.sessionStore.destroy(request.session.sessionId, (err?: unknown) => {
        if (err) {
          reject(err)
          return
        }
        fastify.decryptSession('', request, () => resolve())
      })
    })
  }

  async function expire (request: FastifyRequest, reply: FastifyReply, idleFor: number, reason: ExpireReason): Promise<void> {
    await logout(request, reply)
    request[kExpireAfter] = 0
    request[kLastActivity] = 0
    if (onExpire !== undefined) onExpire(request, { idleFor, reason })
  }

  /** Steps 2 to 6 for an authenticated request; a promise only when something had to be awaited. */
  function track (request: FastifyRequest, reply: FastifyReply): Promise<void> | undefined {
    const session = request.session
    const cookie = session.cookie
    if (!insecure && (cookie.originalMaxAge || cookie.expires)) throw new PersistentCookieError()

    const expireAfter = expireAfterFor(settings, request)
    const now = Date.now()
    const stored = session._session_security
    if (stored === undefined) {
      // Step 2: first request of a login.
      request[kExpireAfter] = expireAfter
      return recorder.record(request, now, expireAfter)
    }

    let last = parseActivity(stored)
    // A value that is not a date fails closed: it is treated as expired.
    if (Number.isNaN(last)) return expire(request, reply, 0, 'invalid')
    // A value in the future (clock skew between servers) counts as now and is rewritten.
    const future = last > now
    if (future) last = now
    const idleFor = idleSeconds(now, last)
    if (idleFor >= expireAfter) return expire(request, reply, idleFor, 'idle')

    request[kExpireAfter] = expireAfter
    request[kLastActivity] = last
    if (isPassive(request)) return undefined
    if ((future || now - last >= activityResolutionMs) && isOwnActivity(request)) return recorder.record(request, now, expireAfter)
    return undefined
  }

  /**
   * A request counts as the user's activity when it comes from this site, or is a navigation that
   * the user started (a link followed from their mail). Requests that another site makes the
   * browser send (an image, a frame, a form posted by script) must not keep a victim's session
   * alive (DESIGN.md 5.4); expiry still applies to them. Read only when a write is due.
   */
  function isOwnActivity (request: FastifyRequest): boolean {
    const headers = request.headers
    return mayReportActivity(headers['sec-fetch-site']) || headers['sec-fetch-user'] === '?1'
  }

  function afterAuthentication (request: FastifyRequest, reply: FastifyReply, authenticated: unknown, done: Done): void {
    if (!authenticated) {
      done()
      return
    }
    let result
    try {
      result = track(request, reply)
    } catch (err) {
      done(err as Error)
      return
    }
    settle(result, done)
  }

  return function sessionSecurityOnRequest (request, reply, done) {
    recorder.watchStore(request)
    // No session here (the request is outside the session cookie's path): nothing to track.
    if (request.session?.sessionId === undefined) {
      done()
      return
    }
    let authenticated
    try {
      authenticated = settings.isAuthenticated(request)
    } catch (err) {
      done(err as Error)
      return
    }
    if (isThenable(authenticated)) {
      authenticated.then(value => afterAuthentication(request, reply, value, done), done)
    } else {
      afterAuthentication(request, reply, authenticated, done)
    }
  }
}
