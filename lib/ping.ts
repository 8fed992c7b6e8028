// The ping route, GET `${routePrefix}/ping/?idleFor=N`: the wire protocol of
// django-session-security's client. The onRequest hook has already enforced expiry and left the
// request's state; this handler merges the client's idle time and answers with the whole seconds
// since the last activity, or "logout".
import type { FastifyReply, FastifyRequest } from 'fastify'
import { idleSeconds, type SharedClock } from './clock.js'
import type { Tracker } from './hook.js'
import { sessionEnd, stateOf } from './state.js'
import { mergeReportedActivity, parseIdleFor, type ActivityRule } from './user-activity.js'

const LOGOUT = '"logout"'

export function createPingHandler (tracker: Tracker, rule: ActivityRule, clock: SharedClock) {
  return async function sessionSecurityPing (request: FastifyRequest, reply: FastifyReply): Promise<string> {
    reply.header('cache-control', 'no-store').type('application/json; charset=utf-8')
    const before = stateOf(request)
    if (before.status !== 'signed-in') return LOGOUT

    const now = clock.now()
    const idleFor = parseIdleFor(request.query)
    if (idleFor !== undefined && rule.mayReportActivity(request)) {
      const merged = mergeReportedActivity(before.lastActivity, now, idleFor)
      // Written whenever it moved, whatever activityResolution says: pings are rare, and the
      // answer must never tell the browser of activity that the server does not have. Activity
      // reported after the session's end never counts: the hook found the session alive, but the
      // application's preHandler hooks may hold this handler past that end.
      if (merged > before.lastActivity && merged < sessionEnd(before)) await tracker.recordActivity(request, before, merged)
    }
    const after = stateOf(request)
    if (after.status !== 'signed-in') return LOGOUT
    return String(Math.max(0, idleSeconds(now, after.lastActivity)))
  }
}
