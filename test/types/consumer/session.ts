// The Session augmentation that a user writes, next to the field the plugin declares.
import Fastify from 'fastify'
import 'fastify-session-security'

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

app.post('/login', async (request) => {
  request.session.user = { name: 'ada' }
  // @ts-expect-error the user's own augmentation is checked too
  request.session.user = { name: 42 }
  await request.session.regenerate(['user'])
  return 'ok'
})
