// @fastify/session's public way to a fresh session: `decryptSession` with an id that cannot be
// unsigned gives the request a new, empty session that is saved only if something writes to it.
import type { FastifyInstance, FastifyRequest } from 'fastify'

/** Gives the request a fresh anonymous session. */
export function newSession (fastify: FastifyInstance, request: FastifyRequest): Promise<void> {
  return new Promise(resolve => { fastify.decryptSession('', request, () => resolve()) })
}

/** The cookie options of @fastify/session's sessions, read from a fresh session on a fake request. */
export function sessionCookieOptions (fastify: FastifyInstance): { originalMaxAge?: number | null, expires?: Date | null, sameSite?: unknown } | undefined {
  const probe = { protocol: 'https', headers: {} } as unknown as FastifyRequest
  try {
    fastify.decryptSession('', probe, () => {})
  } catch {
    // A custom idGenerator that needs a real request: the cookie is checked on each signed-in request instead.
    return undefined
  }
  return (probe.session as { cookie?: ReturnType<typeof sessionCookieOptions> } | undefined)?.cookie
}
