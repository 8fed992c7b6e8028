// The onRequest hook: runs after @fastify/session has loaded the session, on every route including
// 404s. In order: a session that ended earlier is reported; an anonymous request is left alone; a
// signed-in one is measured on the shared clock, logged out when idle or past its absolute end,
// and otherwise has its activity recorded when it is the user's.
import { channel } from 'node:diagnostics_channel'
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import type { ActivityRecorder, SecurityStore } from './activity.js'
import { idleSeconds, parseActivity } from './clock.js'
import { CrossSiteCookieError, LogoutFailedError, PersistentCookieError } from './errors.js'
import { absoluteTimeoutFor, expireAfterFor, isThenable, type Settings } from './options.js'
import { newSession } from './session.js'
import { activitySeen, sessionLost, signedIn, signedOut, type SignedIn } from './state.js'
import type { EndReason, RecordResult } from './store.js'
import type { ExpireReason } from '../types/index.js'
import type { ActivityRule } from './user-activity.js'

/** Each session that the plugin ends: `{ request, reason, idleFor }`. */
export const expireChannel = channel('fastify-session-security:expire')

type Done = (err?: Error) => void

export interface HookParts {
  settings: Settings
  recorder: ActivityRecorder
  rule: ActivityRule
  /** The instance that @fastify/session decorated, for a fresh session. */
  fastify: FastifyInstance
}

/** How long this process remembers a session it ended, for stores without tombstones: onExpire once per session here. */
const REMEMBER_ENDED_MS = 600_000

/** A cookie that outlives the browser, or that other sites' requests carry. */
export function cookieProblem (cookie: { originalMaxAge?: number | null, expires?: Date | null, sameSite?: unknown } | undefined): Error | undefined {
  if (cookie === undefined) return undefined
  if (cookie.originalMaxAge || cookie.expires) return new PersistentCookieError()
  if (typeof cookie.sameSite === 'string' && cookie.sameSite.toLowerCase() === 'none') return new CrossSiteCookieError()
  return undefined
}

/** A plain copy of the session's data for the audit hook: no cookie, no methods. */
function copySession (session: FastifyRequest['session']): Record<string, unknown> {
  const copy: Record<string, unknown> = {}
  for (const key of Object.keys(session)) {
    if (key !== 'cookie') copy[key] = (session as unknown as Record<string, unknown>)[key]
  }
  return JSON.parse(JSON.stringify(copy))
}

export interface Tracker {
  onRequest: onRequestHookHandler
  /**
   * Steps 2 to 6 for a request known to be signed in. `write`: record even when no write is due
   * (a session saved under a new id needs its activity and idle TTL now).
   */
  track (request: FastifyRequest, reply: FastifyReply, write?: boolean): Promise<void> | undefined
  /**
   * Records activity at `at` for a signed-in request (the ping's merge); afterwards the request's
   * state tells whether it is still signed in (the store may say the session ended meanwhile).
   */
  recordActivity (request: FastifyRequest, state: SignedIn, at: number): Promise<void> | undefined
}

export function createTracker ({ settings, recorder, rule, fastify }: HookParts): Tracker {
  const { activityResolutionMs, onExpire, insecure } = settings
  const { clock } = recorder
  const endedHere = new Set<string>()

  /**
   * Claims the end of a session: true for exactly one of the requests that end it. With
   * SessionSecurityStore the tombstone decides, on whichever instance; with another store, this
   * process remembers the sessions it ended lately.
   */
  async function claimEnd (request: FastifyRequest, store: SecurityStore | undefined, reason: EndReason): Promise<boolean> {
    const sessionId = request.session.sessionId
    if (store !== undefined) return (await store.end(sessionId, reason)).status !== 'already-ended'
    if (endedHere.has(sessionId)) return false
    endedHere.add(sessionId)
    // Remembered as long as a tombstone would be; expiries are rare, one timer each is cheap.
    setTimeout(() => endedHere.delete(sessionId), REMEMBER_ENDED_MS).unref()
    return true
  }

  /**
   * The default logout: the old session leaves the store (with SessionSecurityStore, `claimEnd`
   * already left its tombstone), and the request goes on with a fresh session that is not saved,
   * so no key for this user is left behind and no cookie is set for the dead id.
   */
  async function defaultLogout (request: FastifyRequest, store: SecurityStore | undefined): Promise<void> {
    if (store === undefined) {
      const sessionId = request.session.sessionId
      await new Promise<void>((resolve, reject) => {
        request.sessionStore.destroy(sessionId, (err?: unknown) => { if (err) reject(err); else resolve() })
      })
    }
    await newSession(fastify, request)
  }

  /**
   * The application's logout, or the default one. A logout that destroyed the session leaves none,
   * even one that failed afterwards: the application, its handler or its error handler, always
   * gets a fresh one.
   */
  async function logOut (request: FastifyRequest, reply: FastifyReply, store: SecurityStore | undefined): Promise<void> {
    try {
      if (settings.logout === undefined) await defaultLogout(request, store)
      else await settings.logout(request, reply)
    } finally {
      if (request.session == null) await newSession(fastify, request)
    }
  }

  /** The audit hook, once per ended session; what it throws or rejects is logged, nothing else. */
  function audit (request: FastifyRequest, info: Parameters<NonNullable<Settings['onExpire']>>[1]): void {
    if (onExpire === undefined) return
    const failed = (err: unknown): void => { request.log.error({ err }, 'fastify-session-security: onExpire failed') }
    try {
      const result = onExpire(request, info)
      if (isThenable(result)) result.then(undefined, failed)
    } catch (err) {
      failed(err)
    }
  }

  /** Step 3: logs the user out, fails closed when that did not work, and tells who needs to know. */
  async function expire (request: FastifyRequest, reply: FastifyReply, reason: ExpireReason, idleFor: number): Promise<void> {
    const store = recorder.securityStore(request)
    const sessionId = request.session.sessionId
    const session = onExpire === undefined ? undefined : copySession(request.session)
    const first = await claimEnd(request, store, reason)
    try {
      await logOut(request, reply, store)
      // Fail closed: a request still signed in after the logout is refused (with
      // SessionSecurityStore the tombstone already ends the session for every later request).
      if (await settings.isAuthenticated(request)) throw new LogoutFailedError()
      signedOut(request, reason, idleFor, true)
      if (first) {
        request.log.info({ reason, idleFor }, 'fastify-session-security: session ended')
        if (expireChannel.hasSubscribers) expireChannel.publish({ request, reason, idleFor })
      }
    } finally {
      // Audited even when the logout failed: the session was ended in the store, or its logout attempted.
      if (first) audit(request, { reason, idleFor, sessionId, session: session ?? {} })
    }
  }

  /** The store said the session ended or left while this request ran: go on as anonymous. */
  async function lost (request: FastifyRequest, result: RecordResult): Promise<void> {
    await newSession(fastify, request)
    if (result.status === 'ended') signedOut(request, result.reason, 0, false)
    else sessionLost(request)
  }

  function afterRecord (request: FastifyRequest, result: RecordResult): Promise<void> | undefined {
    if (result.status === 'recorded') {
      activitySeen(request, result.at)
      return undefined
    }
    return lost(request, result)
  }

  function record (request: FastifyRequest, at: number, expireAfter: number, signedInAt: number, readActivity?: number): Promise<void> | undefined {
    const result = recorder.record(request, at, expireAfter, signedInAt, readActivity)
    if (isThenable(result)) return result.then(outcome => afterRecord(request, outcome))
    return afterRecord(request, result)
  }

  /** Steps 2 to 6 for a signed-in request; a promise only when something had to be awaited. */
  function track (request: FastifyRequest, reply: FastifyReply, write = false): Promise<void> | undefined {
    const session = request.session
    if (!insecure) {
      const problem = cookieProblem(session.cookie)
      if (problem !== undefined) throw problem
    }
    const store = recorder.securityStore(request)
    if (store !== undefined && clock.stale()) return clock.sync(store).then(() => measure(request, reply, write))
    return measure(request, reply, write)
  }

  function measure (request: FastifyRequest, reply: FastifyReply, write: boolean): Promise<void> | undefined {
    const session = request.session
    const now = clock.now()
    const expireAfter = expireAfterFor(settings, request)
    const absoluteTimeout = absoluteTimeoutFor(settings, request)
    const since = session._session_security_since
    if (since !== undefined && !(typeof since === 'number' && Number.isSafeInteger(since) && since >= 0)) {
      return expire(request, reply, 'invalid', 0)
    }
    const signedInAt = since === undefined ? now : Math.min(since, now)
    const absoluteEnd = signedInAt + absoluteTimeout * 1000

    const stored = session._session_security
    if (stored === undefined) {
      // Step 2: the first request of a sign-in.
      if (now >= absoluteEnd) return expire(request, reply, 'absolute', 0)
      signedIn(request, session.sessionId, expireAfter, now, absoluteEnd)
      return record(request, now, expireAfter, signedInAt)
    }

    let last = parseActivity(stored)
    // A value that is not a date fails closed: it is treated as expired.
    if (Number.isNaN(last)) return expire(request, reply, 'invalid', 0)
    // A value in the future (another clock) counts as now and is rewritten.
    const future = last > now
    if (future) last = now
    const idleFor = idleSeconds(now, last)
    if (idleFor >= expireAfter) return expire(request, reply, 'idle', idleFor)
    if (now >= absoluteEnd) return expire(request, reply, 'absolute', idleFor)

    signedIn(request, session.sessionId, expireAfter, last, absoluteEnd)
    // Without counting as activity, a session from before the sign-in instant was stored gets it,
    // and a value in the future is rewritten as now: else it would stay 0 s idle for as long as
    // only passive requests, or requests that are not the user's, come. A session saved under a
    // new id gets its write whatever its last one was.
    const repair = write || future || since === undefined
    const due = repair || now - last >= activityResolutionMs
    // Nothing to write and nothing to refuse: most requests end here, before the route's config
    // (Fastify builds a new `routeOptions` object on each read) or the passive lists are looked at.
    if (!due && !rule.mayBeRefused(request)) return undefined
    // Passive requests are never looked at as the user's activity (nor refused as another site's).
    if (!rule.isPassive(request) && rule.isUsersActivity(request) && due) return record(request, now, expireAfter, signedInAt, last)
    return repair ? record(request, last, expireAfter, signedInAt) : undefined
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
    if (result === undefined) done()
    else result.then(() => done(), done)
  }

  function sessionSecurityOnRequest (request: FastifyRequest, reply: FastifyReply, done: Done): void {
    // No session here (the request is outside the session cookie's path): nothing to track.
    if (request.session?.sessionId === undefined) {
      done()
      return
    }
    // The cookie named a session that ended (a tombstone): the store says why, during this callback.
    const ended = recorder.securityStore(request)?.endedReason()
    if (ended !== undefined) {
      signedOut(request, ended, 0, false)
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

  return {
    onRequest: sessionSecurityOnRequest,
    track,
    recordActivity (request, state, at) {
      return record(request, at, state.expireAfter, 0)
    }
  }
}
