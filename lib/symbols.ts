// Symbols that mark routes, shared by the modules that set them and the one that reads them.

/** Memo of a route's passivity, kept on Fastify's own per-route config copy. */
export const kRoutePassive = Symbol('fastify-session-security.routePassive')
/** Marks the routes of the plugin itself (the ping and the assets): never activity. */
export const kPluginRoute = Symbol('fastify-session-security.pluginRoute')
