// The public TypeScript contract of fastify-session-security: option types and the module
// augmentation of fastify and @fastify/session. Compiled with the rest, so it cannot drift.
/// <reference types="@fastify/session" preserve="true" />
import type { FastifyReply, FastifyRequest } from 'fastify'

/** Why the plugin logged a user out: idle too long, past the absolute end, or a stored value that is not a date. */
export type ExpireReason = 'idle' | 'absolute' | 'invalid'

/** Why a session ended: the plugin's reasons, or `logout` for a session that the application ended. */
export type SessionEndReason = ExpireReason | 'logout'

export interface ExpireInfo {
  reason: ExpireReason
  /** Whole seconds since the last activity (0 when the stored value was not a date). */
  idleFor: number
  /** The id of the session that ended. */
  sessionId: string
  /** A plain copy of that session's data (without its cookie), taken before the logout. */
  session: Record<string, unknown>
}

/** `request.sessionExpiry`: why the session that the request's cookie named ended. */
export interface SessionExpiry {
  reason: SessionEndReason
  /** Idle seconds when it ended; 0 where no longer known. */
  idleFor: number
}

export type ClearSiteDataType = 'cookies' | 'storage' | 'cache'

export interface SessionSecurityOptions {
  /**
   * Idle seconds before the browser warns. Default: `expireAfter` less a lead of 10% of it, at
   * least 20 s where `expireAfter` allows half of it (540 for 600, 20 for 40, 5 for 10).
   */
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
  /**
   * Audit hook, called once per session that the plugin ends, on whichever instance ends it. It
   * may be async; what it throws or rejects is logged and changes nothing else.
   */
  onExpire?: (request: FastifyRequest, info: ExpireInfo) => void | Promise<void>
  /** Where the ping route (`/ping/`) and the assets (`/static/`) live. Default `/session_security`. */
  routePrefix?: string
  /** Where the browser goes at expiry; without it the page reloads. */
  returnToUrl?: string
  /** Seconds that last activity must move before it is written again (0: every request). Default 1. */
  activityResolution?: number
  /** Allow a session cookie that outlives the browser (`maxAge`, `expires`) or has `sameSite: 'none'`. Default false. */
  insecure?: boolean
  /**
   * The longest a sign-in lasts whatever the activity, in seconds, or a function of the request,
   * counted from the first request seen signed in; `false` turns it off. Default 43200 (12 h).
   */
  absoluteTimeout?: number | ((request: FastifyRequest) => number) | false
  /** Sent as `Clear-Site-Data` on the response of a request that the plugin logged out. Default false. */
  clearSiteData?: false | readonly ClearSiteDataType[]
  /** `Cache-Control: no-store` on pages that rendered the snippet (unless the route set its own). Default true. */
  noStore?: boolean
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
    /** The sign-in instant (epoch ms) that the absolute timeout counts from. */
    _session_security_since?: number
  }
  interface FastifyRequest {
    /** Why the session that this request's cookie named ended (now or lately), or null. */
    readonly sessionExpiry: SessionExpiry | null
  }
  interface FastifyContextConfig {
    /** Route name, matched against `passiveUrlNames`. */
    name?: string
    sessionSecurity?: RouteSessionSecurityConfig
  }
}
