// Symbols that mark routes and rotated sessions, shared by the modules that set them and the one
// that reads them. Not part of the package's exports.
import type { EndReason } from './store.js'

/** Memo of a route's passivity, kept on Fastify's own per-route config copy. */
export const kRoutePassive = Symbol('fastify-session-security.routePassive')
/** Marks the routes of the plugin itself (the ping and the assets): never activity. */
export const kPluginRoute = Symbol('fastify-session-security.pluginRoute')

/** On a session object that SessionSecurityStore saved under a new id (`regenerate`): its Rotation. */
export const kRotation = Symbol('fastify-session-security.rotation')

/** What the store saw of a session saved under a new id. */
export interface Rotation {
  /** The id it replaces. */
  readonly from: string
  /** Why that session had ended before the rotation ended it; undefined when it was alive. */
  readonly endedBefore: EndReason | undefined
}

/** The rotation that saved this session object, if SessionSecurityStore saw one. */
export function rotationOf (session: object): Rotation | undefined {
  return (session as { [kRotation]?: Rotation })[kRotation]
}
