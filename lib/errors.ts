// Every error of the plugin: an @fastify/error class with a FST_SESSION_SECURITY_* code, listed
// in the README's error table.
//
// Each constant has an explicit type, so the published declarations name
// `FastifyErrorConstructor` from @fastify/error instead of the `createError` namespace that tsc
// would infer: a default import of @fastify/error is a namespace under node16 and nodenext
// resolution but only a function under bundler resolution, where `createError.X` does not compile.
import createError, { type FastifyErrorConstructor } from '@fastify/error'

/** An error class whose instances carry `code` and status 500, constructed from `Args`. */
type SessionSecurityError<Code extends string, Args extends unknown[] = []> =
  FastifyErrorConstructor<{ code: Code, statusCode: 500 }, Args>

export const InvalidOptionError: SessionSecurityError<'FST_SESSION_SECURITY_INVALID_OPTION', [option: string, problem: string]> = createError(
  'FST_SESSION_SECURITY_INVALID_OPTION',
  'fastify-session-security: option "%s" %s',
  500,
  TypeError
)

export const WarnAfterNotBelowExpireError: SessionSecurityError<'FST_SESSION_SECURITY_WARN_AFTER_NOT_BELOW_EXPIRE', [warnAfter: number, expireAfter: number]> = createError(
  'FST_SESSION_SECURITY_WARN_AFTER_NOT_BELOW_EXPIRE',
  'fastify-session-security: warnAfter (%s) must be less than expireAfter (%s)',
  500,
  RangeError
)

export const InvalidExpireAfterResultError: SessionSecurityError<'FST_SESSION_SECURITY_INVALID_EXPIRE_AFTER', [result: string]> = createError(
  'FST_SESSION_SECURITY_INVALID_EXPIRE_AFTER',
  'fastify-session-security: expireAfter(request) returned %s; it must return a number of seconds greater than warnAfter',
  500,
  TypeError
)

export const PersistentCookieError: SessionSecurityError<'FST_SESSION_SECURITY_PERSISTENT_COOKIE'> = createError(
  'FST_SESSION_SECURITY_PERSISTENT_COOKIE',
  'fastify-session-security: the session cookie has maxAge or expires, so it outlives the browser; remove them from @fastify/session\'s cookie options, or pass insecure: true',
  500
)

export const CrossSiteCookieError: SessionSecurityError<'FST_SESSION_SECURITY_CROSS_SITE_COOKIE'> = createError(
  'FST_SESSION_SECURITY_CROSS_SITE_COOKIE',
  'fastify-session-security: the session cookie has sameSite "none", so other sites\' requests carry it; use "lax" or "strict" in @fastify/session\'s cookie options, or pass insecure: true',
  500
)

export const LogoutFailedError: SessionSecurityError<'FST_SESSION_SECURITY_LOGOUT_FAILED'> = createError(
  'FST_SESSION_SECURITY_LOGOUT_FAILED',
  'fastify-session-security: the request is still authenticated after logout; the session was ended in the store, and this request is refused',
  500
)

export const InvalidAbsoluteTimeoutResultError: SessionSecurityError<'FST_SESSION_SECURITY_INVALID_ABSOLUTE_TIMEOUT', [result: string]> = createError(
  'FST_SESSION_SECURITY_INVALID_ABSOLUTE_TIMEOUT',
  'fastify-session-security: absoluteTimeout(request) returned %s; it must return a positive number of seconds',
  500,
  TypeError
)
