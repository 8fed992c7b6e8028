// Which requests never count as activity: passive paths and patterns, passive route names, routes
// with `config.sessionSecurity.passive`, and the plugin's own routes.
import type { FastifyRequest } from 'fastify'
import type { Settings } from './options.js'
import { kPingRoute, kRoutePassive } from './symbols.js'

interface MemoConfig {
  name?: unknown
  sessionSecurity?: { passive?: unknown }
  [kPingRoute]?: boolean
  [kRoutePassive]?: boolean
}

function routeIsPassive (config: MemoConfig, settings: Settings): boolean {
  return config[kPingRoute] === true ||
    config.sessionSecurity?.passive === true ||
    (typeof config.name === 'string' && settings.passiveUrlNames.has(config.name))
}

export function createPassiveMatcher (settings: Settings): (request: FastifyRequest) => boolean {
  const { passivePaths, passivePatterns } = settings
  const matchPaths = passivePaths.size > 0 || passivePatterns.length > 0

  return function isPassive (request) {
    // Fastify gives each route its own copy of `config`, so the route's answer is worked out on
    // its first request and kept there under a Symbol.
    const config = request.routeOptions.config as MemoConfig
    let passive = config[kRoutePassive]
    if (passive === undefined) passive = config[kRoutePassive] = routeIsPassive(config, settings)
    if (passive || !matchPaths) return passive

    const url = request.url
    const query = url.indexOf('?')
    const path = query === -1 ? url : url.slice(0, query)
    if (passivePaths.has(path)) return true
    for (const pattern of passivePatterns) {
      // A global or sticky RegExp keeps lastIndex between calls; start each test from 0.
      pattern.lastIndex = 0
      if (pattern.test(path)) return true
    }
    return false
  }
}
