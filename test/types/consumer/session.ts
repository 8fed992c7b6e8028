// The Session augmentation that a user writes, next to the field the plugin declares.
import Fastify from 'fastify'
import type { SessionEndReason, SessionExpiry } from 'fastify-session-security'

declare module 'fastify' {
  interface Session {
    user?: { name: string }
  }
}

const app = Fastify()

app.get('/me', async (request, reply) => {
  if (!request.session.user) return reply.code(401).send({ error: 'sign in first' })
  const name: string = request.session.user.name
  const lastActivity: string | undefined = request.session._session_security
  // @ts-expect-error the plugin's field is an ISO string, not a Date
  const asDate: Date | undefined = request.session._session_security
  // @ts-expect-error only declared fields exist on the session
  const other: unknown = request.session.notDeclared
  return { name, lastActivity, asDate, other }
})

// Why the session that the request's cookie named ended, for the application's own guard.
app.get('/api/account', async (request, reply) => {
  const expiry: SessionExpiry | null = request.sessionExpiry
  if (expiry !== null) {
    const reason: SessionEndReason = expiry.reason
    return reply.code(401).send({ error: reason === 'logout' ? 'signed out' : `ended: ${reason} after ${expiry.idleFor} s` })
  }
  // @ts-expect-error the plugin sets it; the application reads it
  request.sessionExpiry = null
  return { ok: true }
})

app.post('/login', async (request) => {
  request.session.user = { name: 'ada' }
  // @ts-expect-error the user's own augmentation is checked too
  request.session.user = { name: 42 }
  await request.session.regenerate(['user'])
  return 'ok'
})
