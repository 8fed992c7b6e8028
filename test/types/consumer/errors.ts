// The error classes are exported by name, with their codes, for `instanceof` and `code` checks.
import {
  CrossSiteCookieError,
  InvalidAbsoluteTimeoutResultError,
  InvalidExpireAfterResultError,
  InvalidOptionError,
  LogoutFailedError,
  PersistentCookieError,
  WarnAfterNotBelowExpireError
} from 'fastify-session-security'

const invalid = new InvalidOptionError('expireAfter', 'must be a number of seconds')
const code: 'FST_SESSION_SECURITY_INVALID_OPTION' = invalid.code
const status: number | undefined = invalid.statusCode
const message: string = invalid.message

const order = new WarnAfterNotBelowExpireError(600, 540)
const result = new InvalidExpireAfterResultError('"600"')
const cookie = new PersistentCookieError()
const crossSite: 'FST_SESSION_SECURITY_CROSS_SITE_COOKIE' = new CrossSiteCookieError().code
const logout: 'FST_SESSION_SECURITY_LOGOUT_FAILED' = new LogoutFailedError().code
const absolute: 'FST_SESSION_SECURITY_INVALID_ABSOLUTE_TIMEOUT' = new InvalidAbsoluteTimeoutResultError('"12h"').code

function describe (error: unknown): string {
  if (error instanceof InvalidOptionError) return error.code
  if (error instanceof WarnAfterNotBelowExpireError) return error.code
  if (error instanceof InvalidExpireAfterResultError) return error.code
  if (error instanceof PersistentCookieError) return error.code
  if (error instanceof CrossSiteCookieError) return error.code
  if (error instanceof LogoutFailedError) return error.code
  if (error instanceof InvalidAbsoluteTimeoutResultError) return error.code
  return 'unknown'
}

// @ts-expect-error the option error takes the option and the problem
const missing = new InvalidOptionError('expireAfter')
// @ts-expect-error warnAfter and expireAfter are numbers
const strings = new WarnAfterNotBelowExpireError('600', '540')
// @ts-expect-error each class has its own code
const wrongCode: 'FST_SESSION_SECURITY_PERSISTENT_COOKIE' = invalid.code

export { absolute, code, cookie, crossSite, describe, logout, message, missing, order, result, status, strings, wrongCode }
