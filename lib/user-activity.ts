// What counts as the user's activity: the one rule that the onRequest hook and the ping both use.
// A request is the user's activity when it is not passive (a listed path or pattern, a listed route
// name, a route marked passive, the plugin's own routes), when this site sent it or the user started
// it, and when it is a navigation or the page's own fetch/XHR call. Everything else only has expiry
// enforced on it.
import { channel } from 'node:diagnostics_channel'
import type { FastifyRequest } from 'fastify'
import { idleSeconds } from './clock.js'
import type { Settings } from './options.js'
import { kPluginRoute, kRoutePassive } from './symbols.js'

/** Requests refused as activity because another site made the browser send them. */
export const refusedChannel = channel('fastify-session-security:refused')

interface MemoConfig {
  name?: unknown
  sessionSecurity?: { passive?: unknown }
  [kPluginRoute]?: boolean
  [kRoutePassive]?: boolean
}

/**
 * `Sec-Fetch-Dest` of requests that may be the user's activity: navigations (absent in browsers
 * that predate the header, `document`, frames) and the page's own fetch/XHR calls (`empty`).
 * Subresources (`image`, `style`, `script`, `font`, ...) never are: Chromium fetches the favicon
 * again after each fragment change, which another site's window can cause in a popup.
 */
const ACTIVITY_DESTINATIONS: ReadonlySet<string> = new Set(['document', 'empty', 'iframe', 'frame'])

/** A whole number in decimal, optionally negative; longer strings are ignored rather than rounded. */
const WHOLE_NUMBER = /^-?\d{1,12}$/

function routeIsPassive (config: MemoConfig, settings: Settings): boolean {
  return config[kPluginRoute] === true ||
    config.sessionSecurity?.passive === true ||
    (typeof config.name === 'string' && settings.passiveUrlNames.has(config.name))
}

/**
 * The path as the router sees it: no query string, percent-decoded as find-my-way decodes it
 * (decodeURI: `%2F` and the other reserved characters stay encoded, so `/feed/a%2Fb` is one
 * segment, the id `a/b` of `/feed/:id`); undefined when it cannot be decoded.
 */
function routerPath (url: string): string | undefined {
  const query = url.indexOf('?')
  const path = query === -1 ? url : url.slice(0, query)
  if (!path.includes('%')) return path
  try {
    return decodeURI(path)
  } catch {
    return undefined
  }
}

/**
 * Whether this site sent the request: `Sec-Fetch-Site` absent (browsers that predate it, and
 * non-browser clients), `same-origin`, or `none` (typed, bookmarked). `same-site` is a sibling
 * subdomain, which may be another party's.
 */
function sentByThisSite (site: string | string[] | undefined): boolean {
  return site === undefined || site === 'same-origin' || site === 'none'
}

function isNavigationOrOwnCall (dest: string | string[] | undefined): boolean {
  return dest === undefined || (typeof dest === 'string' && ACTIVITY_DESTINATIONS.has(dest))
}

export interface ActivityRule {
  /** The request never counts as activity (lists, names, route config, the plugin's own routes). */
  isPassive (request: FastifyRequest): boolean
  /** A request that is not passive counts as the user's activity (site and destination rules). */
  isUsersActivity (request: FastifyRequest): boolean
  /**
   * Whether `isUsersActivity` would refuse the request as another site's (and tell the refused
   * channel): false for every request that this site sent or the user started.
   */
  mayBeRefused (request: FastifyRequest): boolean
  /** The ping may merge the idle time that the client reports. */
  mayReportActivity (request: FastifyRequest): boolean
}

export function createActivityRule (settings: Settings): ActivityRule {
  const { passivePaths, passivePatterns } = settings
  const matchPaths = passivePaths.size > 0 || passivePatterns.length > 0

  function isPassive (request: FastifyRequest): boolean {
    // Fastify gives each route its own copy of `config`, so the route's answer is worked out on
    // its first request and kept there under a Symbol.
    const config = request.routeOptions.config as MemoConfig
    let passive = config[kRoutePassive]
    if (passive === undefined) passive = config[kRoutePassive] = routeIsPassive(config, settings)
    if (passive || !matchPaths) return passive

    const path = routerPath(request.url)
    // A path that cannot be decoded is not a page of this application: it never keeps a session alive.
    if (path === undefined) return true
    if (passivePaths.has(path)) return true
    for (const pattern of passivePatterns) {
      // A global or sticky RegExp keeps lastIndex between calls; start each test from 0.
      pattern.lastIndex = 0
      if (pattern.test(path)) return true
    }
    return false
  }

  function refused (request: FastifyRequest): false {
    if (refusedChannel.hasSubscribers) refusedChannel.publish({ request })
    return false
  }

  function mayBeRefused (request: FastifyRequest): boolean {
    const headers = request.headers
    return !sentByThisSite(headers['sec-fetch-site']) && headers['sec-fetch-user'] !== '?1'
  }

  return {
    isPassive,
    mayBeRefused,
    isUsersActivity (request) {
      if (mayBeRefused(request)) return refused(request)
      return isNavigationOrOwnCall(request.headers['sec-fetch-dest'])
    },
    mayReportActivity (request) {
      const headers = request.headers
      if (!sentByThisSite(headers['sec-fetch-site'])) return refused(request)
      return isNavigationOrOwnCall(headers['sec-fetch-dest'])
    }
  }
}

/** The client's idle seconds from the ping's query (negative counts as 0), or undefined when unusable. */
export function parseIdleFor (query: unknown): number | undefined {
  const value = (query as { idleFor?: unknown } | null | undefined)?.idleFor
  if (typeof value !== 'string' || !WHOLE_NUMBER.test(value)) return undefined
  return Math.max(0, Number(value))
}

/**
 * The last activity after the client's report, compared in whole seconds as the protocol speaks:
 * merged only when the client saw activity more recently than the server counts
 * (`idleFor < serverIdle`), never moved backwards, never into the future. A client that echoes the
 * server's answer back while the server's count is unchanged moves nothing.
 */
export function mergeReportedActivity (stored: number, now: number, idleFor: number): number {
  if (idleFor >= idleSeconds(now, stored)) return stored
  return Math.max(stored, now - idleFor * 1000)
}
