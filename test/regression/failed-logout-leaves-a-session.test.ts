// request.session is never null for the application. A custom logout that destroys the session and
// then fails (an audit or a cache call after `destroy()`) left it null: the request is answered
// 500 (fail closed), but the application's error handler, which often reads the session to log
// who failed, met null.
import { test } from 'tap'
import { SessionSecurityStore } from '../../lib/store.js'
import { login, secondsAgo, startApp, writeActivity } from '../helpers/app.js'

test('a logout that destroys the session and then throws: the error handler still has a session', async t => {
  let seen: string | undefined
  const { app, redis } = await startApp(t, redis => ({
    store: new SessionSecurityStore({ client: redis, prefix: 'sess:' }),
    plugin: {
      warnAfter: 5,
      expireAfter: 10,
      logout: async request => {
        await request.session.destroy()
        throw new Error('audit down')
      }
    },
    routes: app => {
      app.setErrorHandler(async (err, request, reply) => {
        seen = request.session === null ? 'null' : String(request.session.get('user') ?? 'anonymous')
        return reply.code(500).send({ message: (err as Error).message })
      })
    }
  }))
  const cookie = await login(app)
  await app.inject({ url: '/page', headers: { cookie } })
  await writeActivity(redis, cookie, secondsAgo(11.5))
  const response = await app.inject({ url: '/page', headers: { cookie } })
  t.equal(response.statusCode, 500, 'the failed logout is answered 500')
  t.equal(response.json().message, 'audit down')
  t.equal(seen, 'anonymous', 'the error handler reads a fresh session, not null')
  t.equal((await app.inject({ url: '/page', headers: { cookie } })).statusCode, 401, 'the session stays ended')
})
