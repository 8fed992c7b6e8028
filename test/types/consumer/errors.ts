// The error classes are exported by name, with their codes, for `instanceof` and `code` checks.
import {
  InvalidExpireAfterResultError,
  InvalidOptionError,
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

function describe (error: unknown): string {
  if (error instanceof InvalidOptionError) return error.code
  if (error instanceof WarnAfterNotBelowExpireError) return error.code
  if (error instanceof InvalidExpireAfterResultError) return error.code
  if (error instanceof PersistentCookieError) return error.code
  return 'unknown'
}

// @ts-expect-error the option error takes the option and the problem
const missing = new InvalidOptionError('expireAfter')
// @ts-expect-error warnAfter and expireAfter are numbers
const strings = new WarnAfterNotBelowExpireError('600', '540')
// @ts-expect-error each class has its own code
const wrongCode: 'FST_SESSION_SECURITY_PERSISTENT_COOKIE' = invalid.code

export { code, cookie, describe, message, missing, order, result, status, strings, wrongCode }
