import createError from '@fastify/error'

export const InvalidOptionError = createError<[string, string]>(
  'FST_SESSION_SECURITY_INVALID_OPTION',
  'fastify-session-security: option "%s" %s',
  500,
  TypeError
)

export const WarnAfterNotBelowExpireError = createError<[number, number]>(
  'FST_SESSION_SECURITY_WARN_AFTER_NOT_BELOW_EXPIRE',
  'fastify-session-security: warnAfter (%s) must be less than expireAfter (%s)',
  500,
  RangeError
)

export const InvalidExpireAfterResultError = createError<[string]>(
  'FST_SESSION_SECURITY_INVALID_EXPIRE_AFTER',
  'fastify-session-security: expireAfter(request) returned %s; it must return a number of seconds greater than warnAfter',
  500,
  TypeError
)

export const PersistentCookieError = createError(
  'FST_SESSION_SECURITY_PERSISTENT_COOKIE',
  'fastify-session-security: the session cookie has maxAge or expires, so it outlives the browser; remove them from @fastify/session\'s cookie options, or pass insecure: true',
  500
)
