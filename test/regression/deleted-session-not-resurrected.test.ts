// Guards against bringing back a session that was deleted (a logout in another tab, an expiry on
// another instance) while one of its requests was in flight: the activity write must not make
// @fastify/session save the whole session again.
import { test } from 'tap'
import { SessionSecurityStore } from '../../lib/store.js'
import { startRedis } from '../helpers/redis.js'
import { buildApp, login, readActivity, secondsAgo, sessionCookie, sessionKey } from '../helpers/app.js'

test('a session deleted mid-request stays deleted', async t => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const redis = server.client()
  let deleteFirst: string | undefined
  const app = await buildApp({
    redis,
    store: new SessionSecurityStore({ client: redis, prefix: 'sess:' }),
    plugin: {
      expireAfter: 60,
      // Runs after @fastify/session loaded the session and before the activity write: the
      // deletion lands exactly in the window that the bug needs.
      isAuthenticated: async (request) => {
        if (deleteFirst !== undefined) await redis.del(deleteFirst)
        return Boolean(request.session.get('user' as never))
      }
    }
  })
  t.teardown(() => app.close())

  const cookie = await login(app)
  await app.inject({ url: '/page', headers: { cookie } })
  const key = sessionKey(cookie)
  // Old enough that the next request owes an activity write.
  const stored = JSON.parse(await redis.get(key) as string)
  stored._session_security = secondsAgo(5)
  await redis.set(key, JSON.stringify(stored), 'KEEPTTL')

  deleteFirst = key
  const response = await app.inject({ url: '/page', headers: { cookie } })
  deleteFirst = undefined
  t.equal(response.statusCode, 200, 'the request that was already in flight is answered')
  t.equal(await redis.exists(key), 0, 'the deleted session is not written back')
  t.equal(sessionCookie(response), undefined, 'and no cookie is set for it')
})

test('a session that was never saved still gets its activity, through the session', async t => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const redis = server.client()
  const app = await buildApp({
    redis,
    store: new SessionSecurityStore({ client: redis, prefix: 'sess:' }),
    plugin: { expireAfter: 60, isAuthenticated: (request) => request.headers['x-api-user'] === 'svc' }
  })
  t.teardown(() => app.close())
  const response = await app.inject({ url: '/page', headers: { 'x-api-user': 'svc' } })
  const cookie = sessionCookie(response)
  t.ok(cookie, 'the session was saved by @fastify/session')
  t.type(await readActivity(redis, cookie as string), 'string', 'with its last activity')
})
