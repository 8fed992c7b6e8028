// The public TypeScript contract of fastify-session-security: option types and the module
// augmentation of fastify and @fastify/session. Compiled with the rest, so it cannot drift.
/// <reference types="@fastify/session" preserve="true" />
import type { FastifyReply, FastifyRequest } from 'fastify'

/** Why the plugin logged a user out. */
export type ExpireReason = 'idle' | 'invalid'

export interface ExpireInfo {
  /** Whole seconds since the last activity (0 when the stored value was not a date). */
  idleFor: number
  reason: ExpireReason
}

export interface SessionSecurityOptions {
  /** Idle seconds before the browser warns. Default: 90% of `expireAfter`. */
  warnAfter?: number
  /** Idle seconds before logout, or a function of the request for per-user timeouts. Default 600. */
  expireAfter?: number | ((request: FastifyRequest) => number)
  /** Request paths (query excluded) that never count as activity: strings match exactly, RegExps are tested. */
  passiveUrls?: ReadonlyArray<string | RegExp>
  /** Route names (`config: { name }`) that never count as activity. */
  passiveUrlNames?: readonly string[]
  /** Who is logged in. Default: `request.isAuthenticated()` where present, else `Boolean(request.session.user)`. */
  isAuthenticated?: (request: FastifyRequest) => boolean | Promise<boolean>
  /** How to log out. Default: delete the session from the store and go on with a fresh anonymous one. */
  logout?: (request: FastifyRequest, reply: FastifyReply) => void | Promise<void>
  /** Audit hook, called once for each logout that the plugin makes. */
  onExpire?: (request: FastifyRequest, info: ExpireInfo) => void
  /** Where the ping route (`/ping/`) and the assets (`/static/`) live. Default `/session_security`. */
  routePrefix?: string
  /** Where the browser goes at expiry; without it the page reloads. */
  returnToUrl?: string
  /** Seconds that last activity must move before it is written again (0: every request). Default 1. */
  activityResolution?: number
  /** Allow a session cookie that outlives the browser (`cookie.maxAge` or `expires`). Default false. */
  insecure?: boolean
}

export interface SnippetOptions {
  /** CSP nonce for the script and stylesheet tags. */
  nonce?: string
  /** Locale for the dialog strings; default from Accept-Language, then English. */
  locale?: string
}

export interface SessionSecurityDecorator {
  /** The stylesheet link, dialog markup and script tag for an authenticated page; '' for anonymous requests. */
  snippet (request: FastifyRequest, options?: SnippetOptions): string
  /** `${routePrefix}/ping/` */
  readonly pingUrl: string
  /** `${routePrefix}/static/` */
  readonly staticPrefix: string
}

export interface RouteSessionSecurityConfig {
  /** The route never counts as activity. */
  passive?: boolean
}

declare module 'fastify' {
  interface FastifyInstance {
    sessionSecurity: SessionSecurityDecorator
  }
  interface Session {
    /** Last activity, an ISO 8601 UTC string written by fastify-session-security. */
    _session_security?: string
  }
  interface FastifyContextConfig {
    /** Route name, matched against `passiveUrlNames`. */
    name?: string
    sessionSecurity?: RouteSessionSecurityConfig
  }
}
