// Guards against bringing back a session that was deleted (a logout in another tab, an expiry on
// another instance) while one of its requests was in flight: the activity write must not make
// @fastify/session save the whole session again.
import { test, type Test } from 'tap'
import { SessionSecurityStore } from '../../lib/store.js'
import { login, secondsAgo, sessionCookie, sessionKey, startApp } from '../helpers/app.js'

/**
 * An app on SessionSecurityStore whose next request has its session deleted after
 * @fastify/session loaded it and before the activity write (isAuthenticated runs in between):
 * exactly the window that a logout in another tab needs. The stored activity is 5 s old, so that
 * request owes a write.
 */
async function deletedMidRequest (t: Test) {
  let deleteFirst: string | undefined
  const { redis, app } = await startApp(t, redis => ({
    store: new SessionSecurityStore({ client: redis, prefix: 'sess:' }),
    plugin: {
      expireAfter: 60,
      isAuthenticated: async (request) => {
        if (deleteFirst !== undefined) await redis.del(deleteFirst)
        deleteFirst = undefined
        return Boolean(request.session.get('user'))
      }
    }
  }))
  const cookie = await login(app)
  await app.inject({ url: '/page', headers: { cookie } })
  const key = sessionKey(cookie)
  const stored = JSON.parse(await redis.get(key) as string)
  stored._session_security = secondsAgo(5.5)
  await redis.set(key, JSON.stringify(stored), 'KEEPTTL')
  deleteFirst = key
  return { app, redis, cookie, key }
}

test('a session deleted mid-request stays deleted', async t => {
  const { app, redis, cookie, key } = await deletedMidRequest(t)
  const response = await app.inject({ url: '/page', headers: { cookie } })
  t.equal(response.statusCode, 401, 'the request that was already in flight goes on as anonymous')
  t.equal(await redis.exists(key), 0, 'the deleted session is not written back')
  t.notOk(response.cookies.some(c => c.name === 'sessionId' && c.value !== ''), 'and no cookie is set for it')
})

test('a ping whose session is deleted while it merges answers "logout"', async t => {
  const { app, redis, cookie, key } = await deletedMidRequest(t)
  const response = await app.inject({ url: '/session_security/ping/?idleFor=0', headers: { cookie } })
  t.equal(response.body, '"logout"', 'not 0: the server has no such session any more')
  t.equal(await redis.exists(key), 0)
})

test('a session given a new id that keeps its activity is saved (passport keepSessionInfo)', async t => {
  // Guards the other side: a store that refused every missing key carrying activity would log
  // such users out right after they signed in again.
  const { redis, app } = await startApp(t, redis => ({
    store: new SessionSecurityStore({ client: redis, prefix: 'sess:' }),
    plugin: { expireAfter: 60 },
    routes: app => app.get('/step-up', async (request) => {
      await request.session.regenerate(['user', '_session_security'])
      return { ok: true }
    })
  }))
  const cookie = await login(app)
  await app.inject({ url: '/page', headers: { cookie } })
  const response = await app.inject({ url: '/step-up', headers: { cookie } })
  const renewed = sessionCookie(response) as string
  t.ok(renewed && renewed !== cookie, 'a new session id')
  t.match(await redis.get(sessionKey(cookie)), /^\{"_session_security_ended":"logout"\}$/, 'the old id holds only its tombstone')
  t.equal((await app.inject({ url: '/page', headers: { cookie } })).statusCode, 401, 'the old id is signed out')
  t.equal((await app.inject({ url: '/page', headers: { cookie: renewed } })).statusCode, 200, 'still signed in under the new id')
})

test('activity never creates a session: one that was never saved stays unsaved', async t => {
  const { redis, app } = await startApp(t, redis => ({
    store: new SessionSecurityStore({ client: redis, prefix: 'sess:' }),
    plugin: { expireAfter: 60, isAuthenticated: (request) => request.headers['x-api-user'] === 'svc' }
  }))
  const response = await app.inject({ url: '/api/status', headers: { 'x-api-user': 'svc' } })
  t.equal(response.statusCode, 200)
  t.equal(sessionCookie(response), undefined, 'no cookie')
  t.equal(await redis.dbsize(), 0, 'no key')
})
