// Guards against bringing back a session that was deleted (a logout in another tab, an expiry on
// another instance) while one of its requests was in flight: the activity write must not make
// @fastify/session save the whole session again.
import { test } from 'tap'
import { SessionSecurityStore } from '../../lib/store.js'
import { startRedis } from '../helpers/redis.js'
import { buildApp, login, secondsAgo, sessionCookie, sessionKey } from '../helpers/app.js'

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

test('a slow request that saves after a logout elsewhere does not bring the session back', async t => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const redis = server.client()
  for (const kind of ['SessionSecurityStore', 'plain connect-redis'] as const) {
    let deleteFirst: string | undefined
    const app = await buildApp({
      redis,
      store: kind === 'SessionSecurityStore' ? new SessionSecurityStore({ client: redis, prefix: 'sess:' }) : undefined,
      plugin: {
        expireAfter: 60,
        isAuthenticated: async (request) => {
          if (deleteFirst !== undefined) await redis.del(deleteFirst)
          return Boolean(request.session.get('user' as never))
        }
      }
    })
    const cookie = await login(app)
    await app.inject({ url: '/page', headers: { cookie } })
    const key = sessionKey(cookie)
    deleteFirst = key
    // The route writes application data, so @fastify/session saves the whole session at the end.
    const response = await app.inject({ url: '/cart?item=book', headers: { cookie } })
    deleteFirst = undefined
    t.equal(response.statusCode, 200, `${kind}: answered`)
    if (kind === 'SessionSecurityStore') {
      t.equal(await redis.exists(key), 0, `${kind}: the logged-out session stays gone`)
      t.equal((await app.inject({ url: '/page', headers: { cookie } })).statusCode, 401, `${kind}: the old cookie is dead`)
    } else {
      t.equal(await redis.exists(key), 1, `${kind}: brought back (the limit that the README states)`)
    }
    await app.close()
  }
})

test('activity never creates a session: one that was never saved stays unsaved', async t => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const redis = server.client()
  const app = await buildApp({
    redis,
    store: new SessionSecurityStore({ client: redis, prefix: 'sess:' }),
    plugin: { expireAfter: 60, isAuthenticated: (request) => request.headers['x-api-user'] === 'svc' }
  })
  t.teardown(() => app.close())
  const response = await app.inject({ url: '/api/status', headers: { 'x-api-user': 'svc' } })
  t.equal(response.statusCode, 200)
  t.equal(sessionCookie(response), undefined, 'no cookie')
  t.equal(await redis.dbsize(), 0, 'no key')
})
