// Private per-request state, kept on Symbols decorated once on the Request prototype.

/** Idle timeout in seconds that applies to this request's user; 0 when the request is anonymous. */
export const kExpireAfter = Symbol('fastify-session-security.expireAfter')
/** Last activity (epoch ms) as the hook left it; 0 when the request is anonymous. */
export const kLastActivity = Symbol('fastify-session-security.lastActivity')
/** Memo of a route's passivity, kept on Fastify's own per-route config copy. */
export const kRoutePassive = Symbol('fastify-session-security.routePassive')
/** Marks the ping route's config. */
export const kPingRoute = Symbol('fastify-session-security.pingRoute')

declare module 'fastify' {
  interface FastifyRequest {
    [kExpireAfter]: number
    [kLastActivity]: number
  }
}
