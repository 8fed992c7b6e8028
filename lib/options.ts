// Options: checked first (checkOptions), then turned into a new frozen settings object with
// defaults (buildSettings). The caller's object is never changed.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ExpireInfo, SessionSecurityOptions } from '../types/index.js'
import { InvalidExpireAfterResultError, InvalidOptionError, WarnAfterNotBelowExpireError } from './errors.js'

export const DEFAULT_EXPIRE_AFTER = 600
const WARN_FRACTION = 0.9

export interface Settings {
  /** Explicit warnAfter, or undefined for 90% of each request's expireAfter. */
  readonly warnAfter: number | undefined
  /** expireAfter when it is a number, else undefined. */
  readonly fixedExpireAfter: number | undefined
  /** The user's expireAfter function, when it is one. */
  readonly expireAfterFn: ((request: FastifyRequest) => number) | undefined
  readonly passivePaths: ReadonlySet<string>
  readonly passivePatterns: readonly RegExp[]
  readonly passiveUrlNames: ReadonlySet<string>
  readonly isAuthenticated: (request: FastifyRequest) => boolean | Promise<boolean>
  readonly logout: ((request: FastifyRequest, reply: FastifyReply) => void | Promise<void>) | undefined
  readonly onExpire: ((request: FastifyRequest, info: ExpireInfo) => void) | undefined
  readonly pingUrl: string
  readonly staticPrefix: string
  readonly returnToUrl: string | undefined
  readonly activityResolutionMs: number
  readonly insecure: boolean
}

const KNOWN = new Set([
  'warnAfter', 'expireAfter', 'passiveUrls', 'passiveUrlNames', 'isAuthenticated', 'logout',
  'onExpire', 'routePrefix', 'returnToUrl', 'activityResolution', 'insecure'
])
const FASTIFY_REGISTER_OPTIONS = new Set(['logLevel', 'logSerializers'])

function isPositiveSeconds (value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0
}

function describe (value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'function') return 'a function'
  return String(value)
}

function checkFunction (options: SessionSecurityOptions, name: keyof SessionSecurityOptions): void {
  const value = options[name]
  if (value !== undefined && typeof value !== 'function') {
    throw new InvalidOptionError(name, `must be a function, got ${describe(value)}`)
  }
}

/** Throws a typed error for the first bad option. */
export function checkOptions (options: SessionSecurityOptions): void {
  for (const key of Object.keys(options)) {
    // A misspelt option would silently keep a default timeout: refuse it. Fastify's own register
    // options (logLevel, ...) pass through; `prefix` would not move the routes of this plugin.
    if (key === 'prefix') throw new InvalidOptionError('prefix', 'is ignored by this plugin; use routePrefix')
    if (!KNOWN.has(key) && !FASTIFY_REGISTER_OPTIONS.has(key)) {
      throw new InvalidOptionError(key, 'is not an option of fastify-session-security')
    }
  }
  const { warnAfter, expireAfter, passiveUrls, passiveUrlNames, routePrefix, returnToUrl, activityResolution, insecure } = options

  if (warnAfter !== undefined && !isPositiveSeconds(warnAfter)) {
    throw new InvalidOptionError('warnAfter', `must be a positive number of seconds, got ${describe(warnAfter)}`)
  }
  if (expireAfter !== undefined && typeof expireAfter !== 'function' && !isPositiveSeconds(expireAfter)) {
    throw new InvalidOptionError('expireAfter', `must be a positive number of seconds or a function, got ${describe(expireAfter)}`)
  }
  if (typeof expireAfter !== 'function') {
    const expire = expireAfter ?? DEFAULT_EXPIRE_AFTER
    if (warnAfter !== undefined && warnAfter >= expire) throw new WarnAfterNotBelowExpireError(warnAfter, expire)
  }
  if (passiveUrls !== undefined) {
    if (!Array.isArray(passiveUrls)) throw new InvalidOptionError('passiveUrls', `must be an array, got ${describe(passiveUrls)}`)
    for (const entry of passiveUrls) {
      if (typeof entry !== 'string' && !(entry instanceof RegExp)) {
        throw new InvalidOptionError('passiveUrls', `entries must be strings or RegExps, got ${describe(entry)}`)
      }
    }
  }
  if (passiveUrlNames !== undefined) {
    if (!Array.isArray(passiveUrlNames)) throw new InvalidOptionError('passiveUrlNames', `must be an array, got ${describe(passiveUrlNames)}`)
    for (const entry of passiveUrlNames) {
      if (typeof entry !== 'string') throw new InvalidOptionError('passiveUrlNames', `entries must be strings, got ${describe(entry)}`)
    }
  }
  checkFunction(options, 'isAuthenticated')
  checkFunction(options, 'logout')
  checkFunction(options, 'onExpire')
  if (routePrefix !== undefined && (typeof routePrefix !== 'string' || !/^(\/[\w.~-]+)+$/.test(routePrefix))) {
    throw new InvalidOptionError('routePrefix', `must be a path such as "/session_security" (no trailing slash), got ${describe(routePrefix)}`)
  }
  if (returnToUrl !== undefined && (typeof returnToUrl !== 'string' || returnToUrl === '' || !isSafeReturnUrl(returnToUrl))) {
    throw new InvalidOptionError('returnToUrl', `must be a path on this site or an http(s) URL, got ${describe(returnToUrl)}`)
  }
  if (activityResolution !== undefined && !(typeof activityResolution === 'number' && Number.isFinite(activityResolution) && activityResolution >= 0)) {
    throw new InvalidOptionError('activityResolution', `must be a number of seconds >= 0, got ${describe(activityResolution)}`)
  }
  if (insecure !== undefined && typeof insecure !== 'boolean') {
    throw new InvalidOptionError('insecure', `must be a boolean, got ${describe(insecure)}`)
  }
}

/**
 * A path on this site, or an absolute http(s) URL: never javascript:, data:, a scheme-relative
 * //host, and no whitespace, control characters or backslashes anywhere (browsers drop tabs and
 * newlines and read \ as /, which would turn "/\t/evil.example" into a link to another site).
 */
function isSafeReturnUrl (value: string): boolean {
  if (/[\u0000-\u0020\u007f\\]/.test(value)) return false
  if (value.startsWith('/')) return !value.startsWith('//')
  return /^https?:\/\/[^/?#]+/i.test(value)
}

/**
 * Logged in when the session holds `user`, or @fastify/passport's serialized user (its session key
 * `passport`): passport turns that into `request.user` only in a preValidation hook, after this
 * plugin's onRequest hook has run, so `request.isAuthenticated()` alone would always say no there.
 * `request.isAuthenticated()` still counts where something set the user earlier.
 */
function defaultIsAuthenticated (request: FastifyRequest): boolean {
  const session = request.session as { user?: unknown, passport?: unknown }
  if (session.user != null || session.passport != null) return true
  const isAuthenticated = (request as { isAuthenticated?: () => boolean }).isAuthenticated
  return typeof isAuthenticated === 'function' && isAuthenticated.call(request)
}

export function buildSettings (options: SessionSecurityOptions): Settings {
  const expireAfter = options.expireAfter ?? DEFAULT_EXPIRE_AFTER
  const routePrefix = options.routePrefix ?? '/session_security'
  const passiveUrls = options.passiveUrls ?? []
  return Object.freeze({
    warnAfter: options.warnAfter,
    fixedExpireAfter: typeof expireAfter === 'number' ? expireAfter : undefined,
    expireAfterFn: typeof expireAfter === 'function' ? expireAfter : undefined,
    passivePaths: new Set(passiveUrls.filter((entry): entry is string => typeof entry === 'string')),
    passivePatterns: Object.freeze(passiveUrls.filter((entry): entry is RegExp => entry instanceof RegExp)),
    passiveUrlNames: new Set(options.passiveUrlNames ?? []),
    isAuthenticated: options.isAuthenticated ?? defaultIsAuthenticated,
    logout: options.logout,
    onExpire: options.onExpire,
    pingUrl: `${routePrefix}/ping/`,
    staticPrefix: `${routePrefix}/static/`,
    returnToUrl: options.returnToUrl,
    activityResolutionMs: Math.round((options.activityResolution ?? 1) * 1000),
    insecure: options.insecure ?? false
  })
}

/** The idle timeout for this request, checked: a bad result is an error, never a silent default. */
export function expireAfterFor (settings: Settings, request: FastifyRequest): number {
  if (settings.fixedExpireAfter !== undefined) return settings.fixedExpireAfter
  const value = (settings.expireAfterFn as (request: FastifyRequest) => number)(request)
  if (!isPositiveSeconds(value) || (settings.warnAfter !== undefined && value <= settings.warnAfter)) {
    throw new InvalidExpireAfterResultError(describe(value))
  }
  return value
}

/** The warning delay that goes with an idle timeout: explicit, or 90% of it. */
export function warnAfterFor (settings: Settings, expireAfter: number): number {
  return settings.warnAfter ?? Math.floor(expireAfter * WARN_FRACTION)
}
