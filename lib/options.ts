// Options: checked first (checkOptions), then turned into a new frozen settings object with
// defaults (buildSettings). The caller's object is never changed.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ExpireInfo, SessionSecurityOptions } from '../types/index.js'
import { InvalidAbsoluteTimeoutResultError, InvalidExpireAfterResultError, InvalidOptionError, WarnAfterNotBelowExpireError } from './errors.js'

export const DEFAULT_EXPIRE_AFTER = 600
/** 12 hours: NIST SP 800-63B-4's limit for AAL3 reauthentication, whatever the activity. */
export const DEFAULT_ABSOLUTE_TIMEOUT = 43_200
const CLEAR_SITE_DATA_TYPES: ReadonlySet<string> = new Set(['cookies', 'storage', 'cache'])

export interface Settings {
  /** Explicit warnAfter, or undefined for the default lead before each request's expireAfter. */
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
  readonly onExpire: ((request: FastifyRequest, info: ExpireInfo) => void | Promise<void>) | undefined
  /** absoluteTimeout when it is a number (seconds); Infinity when off. */
  readonly fixedAbsoluteTimeout: number | undefined
  readonly absoluteTimeoutFn: ((request: FastifyRequest) => number) | undefined
  /** The Clear-Site-Data header value, or undefined. */
  readonly clearSiteData: string | undefined
  readonly noStore: boolean
  readonly pingUrl: string
  readonly staticPrefix: string
  readonly returnToUrl: string | undefined
  readonly activityResolutionMs: number
  readonly insecure: boolean
}

const KNOWN = new Set([
  'warnAfter', 'expireAfter', 'passiveUrls', 'passiveUrlNames', 'isAuthenticated', 'logout',
  'onExpire', 'routePrefix', 'returnToUrl', 'activityResolution', 'insecure', 'absoluteTimeout',
  'clearSiteData', 'noStore'
])
const FASTIFY_REGISTER_OPTIONS = new Set(['logLevel', 'logSerializers'])

export function isThenable (value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function'
}

/** A promise returned where a number was due is refused; its rejection must not go unhandled. */
function ignoreRejection (value: unknown): void {
  if (isThenable(value)) value.then(undefined, () => {})
}

function isPositiveSeconds (value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0
}

function describe (value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'function') return 'a function'
  if (Array.isArray(value)) return JSON.stringify(value)
  if (isThenable(value)) return 'a promise (it must be a number, not async)'
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
    const warn = warnAfter ?? defaultWarnAfter(expire)
    if (warn >= expire) throw new WarnAfterNotBelowExpireError(warn, expire)
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
  const { absoluteTimeout, clearSiteData, noStore } = options
  if (absoluteTimeout !== undefined && absoluteTimeout !== false && typeof absoluteTimeout !== 'function' && !isPositiveSeconds(absoluteTimeout)) {
    throw new InvalidOptionError('absoluteTimeout', `must be a positive number of seconds, a function, or false, got ${describe(absoluteTimeout)}`)
  }
  if (clearSiteData !== undefined && clearSiteData !== false) {
    if (!Array.isArray(clearSiteData) || clearSiteData.length === 0 ||
      !clearSiteData.every(type => typeof type === 'string' && CLEAR_SITE_DATA_TYPES.has(type)) ||
      new Set(clearSiteData).size !== clearSiteData.length) {
      throw new InvalidOptionError('clearSiteData', `must be false or a list of "cookies", "storage", "cache" without repeats, got ${describe(clearSiteData)}`)
    }
  }
  if (noStore !== undefined && typeof noStore !== 'boolean') {
    throw new InvalidOptionError('noStore', `must be a boolean, got ${describe(noStore)}`)
  }
}

/**
 * A path on this site, or an absolute http(s) URL: never javascript:, data:, a scheme-relative
 * //host, and no whitespace, control characters or backslashes anywhere (browsers drop tabs and
 * newlines and read \ as /, which would turn "/\t/evil.example" into a link to another site).
 */
function isSafeReturnUrl (value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i)
    if (code <= 0x20 || code === 0x7f || code === 0x5c) return false
  }
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
  const absoluteTimeout = options.absoluteTimeout ?? DEFAULT_ABSOLUTE_TIMEOUT
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
    fixedAbsoluteTimeout: absoluteTimeout === false ? Infinity : typeof absoluteTimeout === 'number' ? absoluteTimeout : undefined,
    absoluteTimeoutFn: typeof absoluteTimeout === 'function' ? absoluteTimeout : undefined,
    clearSiteData: Array.isArray(options.clearSiteData) ? options.clearSiteData.map(type => `"${type}"`).join(', ') : undefined,
    noStore: options.noStore ?? true,
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
  if (!isPositiveSeconds(value) || value <= warnAfterFor(settings, value)) {
    ignoreRejection(value)
    throw new InvalidExpireAfterResultError(describe(value))
  }
  return value
}

/** The absolute timeout for this request in seconds, checked; Infinity when it is off. */
export function absoluteTimeoutFor (settings: Settings, request: FastifyRequest): number {
  if (settings.fixedAbsoluteTimeout !== undefined) return settings.fixedAbsoluteTimeout
  const value = (settings.absoluteTimeoutFn as (request: FastifyRequest) => number)(request)
  if (!isPositiveSeconds(value)) {
    ignoreRejection(value)
    throw new InvalidAbsoluteTimeoutResultError(describe(value))
  }
  return value
}

/**
 * The default warning delay: the idle timeout less a lead of 10% of it, but at least 20 seconds
 * (WCAG 2.2.1 asks for 20 s to react) where the timeout allows half of it, in whole seconds and
 * never below 1: 540 for 600, 40 for 60, 20 for 40, 5 for 10.
 */
export function defaultWarnAfter (expireAfter: number): number {
  const lead = Math.max(expireAfter * 0.1, Math.min(20, expireAfter / 2))
  return Math.max(1, Math.floor(expireAfter - lead))
}

/** The warning delay that goes with an idle timeout: explicit, or the default lead before it. */
export function warnAfterFor (settings: Settings, expireAfter: number): number {
  return settings.warnAfter ?? defaultWarnAfter(expireAfter)
}
