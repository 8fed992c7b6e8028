// The ping route, GET `${routePrefix}/ping/?idleFor=N` (DESIGN.md 5.1 and 5.2): the wire protocol
// of django-session-security's client. The onRequest hook has already enforced expiry and left
// the last activity on the request; this handler merges the client's idle time and answers.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ActivityRecorder } from './activity.js'
import { idleSeconds } from './clock.js'
import { kExpireAfter, kLastActivity } from './symbols.js'

/** A whole number in decimal, optionally negative; longer strings are ignored rather than rounded. */
const WHOLE_NUMBER = /^-?\d{1,12}$/
const LOGOUT = '"logout"'

/** The client's idle seconds (negative counts as 0), or undefined when the parameter is unusable. */
export function parseIdleFor (query: unknown): number | undefined {
  const value = (query as { idleFor?: unknown } | null | undefined)?.idleFor
  if (typeof value !== 'string' || !WHOLE_NUMBER.test(value)) return undefined
  return Math.max(0, Number(value))
}

/**
 * Only a request that the browser says comes from this origin (or from the user: typed, bookmarked)
 * may report activity; `cross-site` and `same-site` must not keep a victim's session alive.
 * Browsers that do not send the header predate it; they are let through as the original does.
 */
export function mayReportActivity (secFetchSite: string | string[] | undefined): boolean {
  return secFetchSite === undefined || secFetchSite === 'same-origin' || secFetchSite === 'none'
}

export function createPingHandler (recorder: ActivityRecorder) {
  return async function sessionSecurityPing (request: FastifyRequest, reply: FastifyReply): Promise<string> {
    reply.header('cache-control', 'no-store').type('application/json; charset=utf-8')
    const expireAfter = request[kExpireAfter]
    if (expireAfter === 0) return LOGOUT

    const now = Date.now()
    let last = request[kLastActivity]
    const idleFor = parseIdleFor(request.query)
    if (idleFor !== undefined && mayReportActivity(request.headers['sec-fetch-site'])) {
      const reported = now - idleFor * 1000
      // Written whenever it is newer, whatever activityResolution says: pings are rare, and the
      // answer must never tell the browser of activity that the server does not have.
      if (reported > last) {
        await recorder.record(request, reported, expireAfter)
        // The store said the session is gone (logged out meanwhile).
        if (request[kExpireAfter] === 0) return LOGOUT
        last = request[kLastActivity]
      }
    }
    return String(idleSeconds(now, last))
  }
}
