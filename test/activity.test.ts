// Behaviour on each request (README "Usage" › "What happens on each request"): expiry on ordinary pages, activity that keeps
// a session alive, passive requests, bad stored values, logout, per-request timeouts.
import Fastify from 'fastify'
import { test } from 'tap'
import { startRedis } from './helpers/redis.js'
import { buildApp, login, readActivity, readSession, secondsAgo, sessionCookie, sessionKey, startApp, writeActivity } from './helpers/app.js'

function ageOf (value: unknown): number {
  return Date.now() - Date.parse(value as string)
}

test('activity on each request', async t => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const redis = server.client()
  const expired: Array<{ url: string, info: unknown }> = []
  const app = await buildApp({
    client: redis,
    plugin: {
      warnAfter: 5,
      expireAfter: 10,
      passiveUrls: ['/api/status', /^\/feed\/\d+$/g],
      passiveUrlNames: ['poll'],
      onExpire: (request, info) => { expired.push({ url: request.url, info }) }
    }
  })
  t.teardown(() => app.close())

  async function loggedIn (idle?: number): Promise<string> {
    const cookie = await login(app)
    await app.inject({ url: '/page', headers: { cookie } })
    if (idle !== undefined) await writeActivity(redis, cookie, secondsAgo(idle + 0.5))
    return cookie
  }

  t.test('anonymous requests are left alone', async t => {
    const response = await app.inject({ url: '/page' })
    t.equal(response.statusCode, 401)
    t.equal(sessionCookie(response), undefined, 'no session is created')
    t.equal(await redis.dbsize(), 0)
  })

  t.test('the first authenticated request records the activity', async t => {
    const cookie = await login(app)
    t.equal(await readActivity(redis, cookie), undefined, 'the login request itself was anonymous')
    await app.inject({ url: '/page', headers: { cookie } })
    const value = await readActivity(redis, cookie)
    t.match(value, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'an ISO 8601 UTC string')
    t.ok(ageOf(value) < 1000)
  })

  t.test('idle past expireAfter: logged out, old key gone, no cookie for the dead id, onExpire once', async t => {
    expired.length = 0
    const cookie = await loggedIn(11)
    const keysBefore = await redis.dbsize()
    const response = await app.inject({ url: '/page', headers: { cookie } })
    t.equal(response.statusCode, 401, 'the application guard answers the now anonymous request')
    t.equal(await redis.exists(sessionKey(cookie)), 0, 'old session deleted from Redis')
    t.equal(await redis.dbsize(), keysBefore - 1, 'no empty replacement session left in Redis')
    const deadId = decodeURIComponent(cookie.slice('sessionId='.length))
    const setCookies = response.cookies.filter(c => c.name === 'sessionId')
    t.notOk(setCookies.some(c => c.value === deadId && c.value !== ''), 'no cookie set for the dead session id')
    t.ok(setCookies.every(c => c.value === '' || c.expires !== undefined), 'the old cookie is cleared')
    t.match(expired, [{ url: '/page', info: { idleFor: 11, reason: 'idle' } }])
    const again = await app.inject({ url: '/page', headers: { cookie } })
    t.equal(again.statusCode, 401, 'the old cookie stays dead')
    t.equal(expired.length, 1, 'onExpire is called once per logout')
  })

  t.test('expiry is enforced on 404s too', async t => {
    const cookie = await loggedIn(10)
    const response = await app.inject({ url: '/no/such/page', headers: { cookie } })
    t.equal(response.statusCode, 404)
    t.equal(await redis.exists(sessionKey(cookie)), 0)
  })

  t.test('a 404 counts as activity', async t => {
    const cookie = await loggedIn(6)
    await app.inject({ url: '/no/such/page', headers: { cookie } })
    t.ok(ageOf(await readActivity(redis, cookie)) < 1000)
  })

  t.test('browsing without any client script keeps the session alive', async t => {
    const cookie = await loggedIn()
    for (let i = 0; i < 3; i++) {
      await writeActivity(redis, cookie, secondsAgo(8.5))
      const response = await app.inject({ url: '/page', headers: { cookie } })
      t.equal(response.statusCode, 200)
      t.ok(ageOf(await readActivity(redis, cookie)) < 1000, 'activity moved to now')
    }
  })

  t.test('a last activity in the future does not log out and is rewritten as now', async t => {
    const cookie = await loggedIn()
    await writeActivity(redis, cookie, new Date(Date.now() + 86_400_000).toISOString())
    const response = await app.inject({ url: '/page', headers: { cookie } })
    t.equal(response.statusCode, 200)
    const age = ageOf(await readActivity(redis, cookie))
    t.ok(age >= 0 && age < 1000, 'rewritten to now')
  })

  t.test('a stored value that is not a date logs out (fail closed)', async t => {
    for (const bad of ['yesterday', '2026-11-22', '2026-13-45T99:99:99.999Z', 1_700_000_000_000, null]) {
      expired.length = 0
      const cookie = await loggedIn()
      await writeActivity(redis, cookie, bad)
      const response = await app.inject({ url: '/page', headers: { cookie } })
      t.equal(response.statusCode, 401, `${JSON.stringify(bad)} logs out`)
      t.match(expired.map(e => e.info), [{ idleFor: 0, reason: 'invalid' }])
    }
  })

  t.test('passive paths, patterns, names and route config leave activity untouched', async t => {
    const cookie = await loggedIn(3)
    const before = await readActivity(redis, cookie)
    for (const url of ['/api/status', '/api/status?x=1', '/feed/12', '/feed/13', '/poll', '/quiet', '/session_security/ping/']) {
      const response = await app.inject({ url, headers: { cookie } })
      t.equal(response.statusCode, 200, url)
      t.equal(await readActivity(redis, cookie), before, `${url} is passive`)
    }
    for (const url of ['/api/status/more', '/feed/x', '/cart?item=1', '/page']) {
      await writeActivity(redis, cookie, before as string)
      await app.inject({ url, headers: { cookie } })
      t.not(await readActivity(redis, cookie), before, `${url} is activity`)
    }
  })

  t.test('requests that another site makes the browser send are not activity', async t => {
    const cookie = await loggedIn()
    for (const [headers, counts] of [
      [{ 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' }, false],
      [{ 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'iframe' }, false],
      [{ 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', 'sec-fetch-user': '?1' }, true],
      [{ 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' }, true],
      [{ 'sec-fetch-site': 'none', 'sec-fetch-mode': 'navigate' }, true],
      [{}, true]
    ] as const) {
      const before = secondsAgo(5.5)
      await writeActivity(redis, cookie, before)
      const response = await app.inject({ url: '/page', headers: { cookie, ...headers } })
      t.equal(response.statusCode, 200)
      const moved = await readActivity(redis, cookie) !== before
      t.equal(moved, counts, `${JSON.stringify(headers)} ${counts ? 'is' : 'is not'} activity`)
    }
    await writeActivity(redis, cookie, secondsAgo(10.5))
    await app.inject({ url: '/page', headers: { cookie, 'sec-fetch-site': 'cross-site' } })
    t.equal(await redis.exists(sessionKey(cookie)), 0, 'and expiry still applies to them')
  })

  t.test('passive requests still enforce expiry', async t => {
    const cookie = await loggedIn(10)
    await app.inject({ url: '/poll', headers: { cookie } })
    t.equal(await redis.exists(sessionKey(cookie)), 0)
  })

  t.test('the application data survives activity writes', async t => {
    const cookie = await loggedIn()
    await app.inject({ url: '/cart?item=book', headers: { cookie } })
    await writeActivity(redis, cookie, secondsAgo(3.5))
    await app.inject({ url: '/page', headers: { cookie } })
    const session = await readSession(redis, cookie)
    t.equal(session?.cart, 'book')
    t.same([session?.user, session?.role], [{ id: 1, name: 'alice' }, 'user'])
  })
})

test('expireAfter as a function of the request', async t => {
  const { redis, app } = await startApp(t, {
    plugin: {
      warnAfter: 3,
      expireAfter: (request) => request.session.get('role') === 'admin' ? 5 : 600
    }
  })

  const admin = await login(app, { role: 'admin' })
  const user = await login(app, { user: 'bob' })
  for (const cookie of [admin, user]) {
    await app.inject({ url: '/page', headers: { cookie } })
    await writeActivity(redis, cookie, secondsAgo(6.5))
  }
  t.equal((await app.inject({ url: '/page', headers: { cookie: admin } })).statusCode, 401, 'the admin times out after 5 s')
  t.equal((await app.inject({ url: '/page', headers: { cookie: user } })).statusCode, 200, 'the user keeps 600 s')
})

test('a bad expireAfter result is an error, never a silent default', async t => {
  let result: unknown = 'soon'
  const { redis, app } = await startApp(t, { plugin: { warnAfter: 5, expireAfter: () => result as number } })
  const cookie = await login(app)
  for (const value of ['soon', 0, -1, Number.NaN, Infinity, 5, undefined]) {
    result = value
    const response = await app.inject({ url: '/page', headers: { cookie } })
    t.equal(response.statusCode, 500, `${String(value)} fails`)
    t.equal(response.json().code, 'FST_SESSION_SECURITY_INVALID_EXPIRE_AFTER')
  }
  t.not(await redis.exists(sessionKey(cookie)), 0, 'the session is kept, not logged out or corrupted')
})

test('isAuthenticated: custom, asynchronous, and @fastify/passport style', async t => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const redis = server.client()

  t.test('an async isAuthenticated', async t => {
    const app = await buildApp({ client: redis, plugin: { expireAfter: 10, isAuthenticated: async (request) => request.headers['x-auth'] === 'yes' } })
    t.teardown(() => app.close())
    const cookie = await login(app)
    await app.inject({ url: '/page', headers: { cookie } })
    t.equal(await readActivity(redis, cookie), undefined, 'not authenticated by the custom check: untouched')
    await app.inject({ url: '/page', headers: { cookie, 'x-auth': 'yes' } })
    t.type(await readActivity(redis, cookie), 'string')
  })

  t.test('errors of isAuthenticated reach the error handler', async t => {
    const sync = await buildApp({ client: redis, plugin: { isAuthenticated: (request) => { if (request.headers['x-boom']) throw new Error('boom'); return true } } })
    t.teardown(() => sync.close())
    const cookie = await login(sync)
    t.equal((await sync.inject({ url: '/page', headers: { cookie } })).statusCode, 200)
    t.equal((await sync.inject({ url: '/page', headers: { cookie, 'x-boom': '1' } })).statusCode, 500)
    const rejected = await buildApp({ client: redis, plugin: { isAuthenticated: (request) => request.headers['x-boom'] ? Promise.reject(new Error('boom')) : true } })
    t.teardown(() => rejected.close())
    t.equal((await rejected.inject({ url: '/page', headers: { cookie, 'x-boom': '1' } })).statusCode, 500)
  })

  t.test('request.isAuthenticated() is used where it exists', async t => {
    const app = Fastify()
    await app.register(import('@fastify/cookie'))
    const { default: fastifySession } = await import('@fastify/session')
    const { RedisStore } = await import('connect-redis')
    await app.register(fastifySession, { secret: 'x'.repeat(32), store: new RedisStore({ client: redis }), saveUninitialized: false, cookie: { secure: 'auto' } })
    app.decorateRequest('isAuthenticated', function (this: { headers: Record<string, unknown> }) { return this.headers['x-user'] === 'carol' })
    const { default: sessionSecurity } = await import('../index.js')
    await app.register(sessionSecurity, { expireAfter: 10 })
    app.get('/start', async (request) => { request.session.set('x', 1); return 'ok' })
    app.get('/', async () => 'ok')
    t.teardown(() => app.close())
    const start = await app.inject({ url: '/start' })
    const cookie = sessionCookie(start) as string
    await app.inject({ url: '/', headers: { cookie } })
    t.equal(await readActivity(redis, cookie), undefined)
    await app.inject({ url: '/', headers: { cookie, 'x-user': 'carol' } })
    t.type(await readActivity(redis, cookie), 'string', 'passport-style check said yes')
  })
})

test('a custom logout is used, and its failure is an error', async t => {
  let fail = false
  const { redis, app } = await startApp(t, {
    plugin: {
      expireAfter: 10,
      logout: async (request) => {
        if (fail) throw new Error('logout failed')
        request.session.set('user', undefined)
        request.session.set('loggedOut', true)
      }
    }
  })
  const cookie = await login(app)
  await app.inject({ url: '/page', headers: { cookie } })
  await writeActivity(redis, cookie, secondsAgo(20.5))
  fail = true
  t.equal((await app.inject({ url: '/page', headers: { cookie } })).statusCode, 500, 'a failing logout is not a silent pass')
  fail = false
  t.equal((await app.inject({ url: '/page', headers: { cookie } })).statusCode, 401)
  t.equal((await readSession(redis, cookie))?.loggedOut, true, 'the custom logout ran')
})
