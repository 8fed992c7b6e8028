// The session lifetime policy: the absolute timeout, the reasons that pages, APIs and the ping are
// given, Clear-Site-Data, and what operators see (diagnostics channels, one log line per expiry).
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { RedisStore } from 'connect-redis'
import Fastify from 'fastify'
import { test } from 'tap'
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import sessionSecurity from '../index.js'
import { SessionSecurityStore } from '../lib/store.js'
import { SECRET, login, secondsAgo, sessionKey, startApp, writeActivity } from './helpers/app.js'
import type { SessionSecurityOptions } from '../index.js'

const PING = '/session_security/ping/'

function securityApp (t: Parameters<typeof startApp>[0], plugin: SessionSecurityOptions, logStream?: Writable) {
  return startApp(t, redis => ({
    store: new SessionSecurityStore({ client: redis, prefix: 'sess:' }),
    plugin,
    logger: logStream,
    routes: app => {
      app.get('/guard', async (request, reply) => {
        if (request.session.get('user') == null) return reply.code(401).send({ expired: request.sessionExpiry })
        return { ok: true }
      })
      app.post('/logout', async request => {
        await request.session.destroy()
        return { ok: true }
      })
    }
  }))
}

test('an active user is signed out at the absolute end, not before', async t => {
  const { app } = await securityApp(t, { warnAfter: 5, expireAfter: 10, absoluteTimeout: 3 })
  const cookie = await login(app)
  const start = Date.now()
  let ended: { at: number, header: unknown } | undefined
  while (ended === undefined && Date.now() - start < 6000) {
    const response = await app.inject({ url: '/page', headers: { cookie } })
    if (response.statusCode !== 200) ended = { at: Date.now() - start, header: response.headers['session-expired'] }
    else await sleep(250)
  }
  t.ok(ended !== undefined && ended.at >= 3000 && ended.at < 3600, `ended after ${ended?.at} ms of steady activity`)
  t.equal(ended?.header, 'absolute')
})

test('absoluteTimeout: false keeps an active session; a function gives per-user limits', async t => {
  const { app, redis } = await securityApp(t, {
    warnAfter: 5,
    expireAfter: 10,
    absoluteTimeout: request => request.session.get('role') === 'admin' ? 60 : 3600
  })
  const user = await login(app, { role: 'user' })
  const admin = await login(app, { role: 'admin' })
  for (const cookie of [user, admin]) {
    await app.inject({ url: '/page', headers: { cookie } })
    const stored = JSON.parse(await redis.get(sessionKey(cookie)) as string)
    stored._session_security_since = Date.now() - 120_000
    await redis.set(sessionKey(cookie), JSON.stringify(stored), 'KEEPTTL')
  }
  t.equal((await app.inject({ url: '/page', headers: { cookie: user } })).statusCode, 200, 'user: 2 min of 1 h')
  const response = await app.inject({ url: '/page', headers: { cookie: admin } })
  t.equal(response.statusCode, 401, 'admin: 2 min of 1 min')
  t.equal(response.headers['session-expired'], 'absolute')

  const off = await securityApp(t, { warnAfter: 5, expireAfter: 10, absoluteTimeout: false })
  const cookie = await login(off.app)
  await off.app.inject({ url: '/page', headers: { cookie } })
  const stored = JSON.parse(await off.redis.get(sessionKey(cookie)) as string)
  stored._session_security_since = Date.now() - 400 * 86_400_000
  await off.redis.set(sessionKey(cookie), JSON.stringify(stored), 'KEEPTTL')
  t.equal((await off.app.inject({ url: '/page', headers: { cookie } })).statusCode, 200, 'off: a sign-in of 400 days stays')
})

test('the default absolute timeout is 12 hours (fake clock, plain store)', async t => {
  const realNow = Date.now.bind(Date)
  let shift = 0
  Date.now = () => realNow() + shift
  t.teardown(() => { Date.now = realNow })
  const { app } = await startApp(t, redis => ({
    store: new RedisStore({ client: redis, prefix: 'sess:' }),
    plugin: { expireAfter: 7200 }
  }))
  const cookie = await login(app)
  t.equal((await app.inject({ url: '/page', headers: { cookie } })).statusCode, 200)
  for (let hour = 1; hour < 12; hour++) {
    shift = hour * 3_600_000
    t.equal((await app.inject({ url: '/page', headers: { cookie } })).statusCode, 200, `active at ${hour} h`)
  }
  shift = 12 * 3_600_000 + 1000
  const response = await app.inject({ url: '/page', headers: { cookie } })
  t.equal(response.statusCode, 401, 'signed out at 12 h')
  t.equal(response.headers['session-expired'], 'absolute')
})

test('reasons: the ending request, a later request with the dead cookie, the ping, the application\'s own logout', async t => {
  const { app, redis } = await securityApp(t, { warnAfter: 5, expireAfter: 10, clearSiteData: ['cookies', 'storage'] })
  const cookie = await login(app)
  await app.inject({ url: '/page', headers: { cookie } })
  await writeActivity(redis, cookie, secondsAgo(12.5))

  const ending = await app.inject({ url: '/guard', headers: { cookie } })
  t.equal(ending.statusCode, 401)
  t.equal(ending.headers['session-expired'], 'idle')
  t.same(ending.json(), { expired: { reason: 'idle', idleFor: 12 } }, 'request.sessionExpiry for the guard')
  t.equal(ending.headers['clear-site-data'], '"cookies", "storage"', 'Clear-Site-Data on the request that ended it')

  const later = await app.inject({ url: '/guard', headers: { cookie } })
  t.equal(later.headers['session-expired'], 'idle', 'a later request with the dead cookie is told why')
  t.same(later.json(), { expired: { reason: 'idle', idleFor: 0 } })
  t.equal(later.headers['clear-site-data'], undefined, 'Clear-Site-Data only where the session ended')

  const ping = await app.inject({ url: `${PING}?idleFor=0`, headers: { cookie } })
  t.equal(ping.body, '"logout"', 'the ping keeps answering "logout" for the original client')
  t.equal(ping.headers['session-expired'], 'idle')

  const other = await login(app)
  await app.inject({ method: 'POST', url: '/logout', headers: { other, cookie: other } })
  const afterLogout = await app.inject({ url: '/guard', headers: { cookie: other } })
  t.equal(afterLogout.headers['session-expired'], 'logout', 'the application\'s own logout')
  t.same(afterLogout.json(), { expired: { reason: 'logout', idleFor: 0 } })

  const anonymous = await app.inject({ url: '/guard' })
  t.equal(anonymous.headers['session-expired'], undefined, 'a request that never had a session: nothing')
  t.same(anonymous.json(), { expired: null })
  const active = await login(app)
  const fine = await app.inject({ url: '/page', headers: { cookie: active } })
  t.equal(fine.headers['session-expired'], undefined)
  t.equal(fine.headers['clear-site-data'], undefined)
})

test('operators: the channels publish once per expiry and per refused activity; one log line without the session id', async t => {
  const lines: string[] = []
  const logStream = new Writable({ write (chunk, _encoding, callback) { lines.push(String(chunk)); callback() } })
  const { app, redis } = await securityApp(t, { warnAfter: 5, expireAfter: 10 }, logStream)
  const expired: unknown[] = []
  const refused: unknown[] = []
  const onExpire = (message: unknown): void => { expired.push(message) }
  const onRefused = (message: unknown): void => { refused.push(message) }
  subscribe('fastify-session-security:expire', onExpire)
  subscribe('fastify-session-security:refused', onRefused)
  t.teardown(() => {
    unsubscribe('fastify-session-security:expire', onExpire)
    unsubscribe('fastify-session-security:refused', onRefused)
  })

  const cookie = await login(app)
  await app.inject({ url: '/page', headers: { cookie } })
  await app.inject({ url: '/page', headers: { cookie, 'sec-fetch-site': 'cross-site' } })
  t.equal(refused.length, 1, 'a cross-site request is refused as activity, once')
  t.match(refused[0], { request: { url: '/page' } })

  await writeActivity(redis, cookie, secondsAgo(11.5))
  await Promise.all([1, 2, 3].map(() => app.inject({ url: '/page', headers: { cookie } })))
  t.equal(expired.length, 1, 'one expiry published for three concurrent requests')
  t.match(expired[0], { reason: 'idle', idleFor: 11, request: { url: '/page' } })

  const sessionId = sessionKey(cookie).slice('sess:'.length)
  const ended = lines.filter(line => line.includes('session ended'))
  t.ok(ended.length >= 1, 'logged at info')
  t.ok(ended.every(line => JSON.parse(line).level === 30 && JSON.parse(line).reason === 'idle'), 'with its reason')
  t.notOk(lines.some(line => line.includes(sessionId)), 'the session id is never logged')
})

test('clearSiteData and absoluteTimeout options are checked', async t => {
  for (const [name, plugin] of [
    ['clearSiteData: []', { clearSiteData: [] }],
    ['clearSiteData: ["everything"]', { clearSiteData: ['everything'] }],
    ['clearSiteData repeats', { clearSiteData: ['cache', 'cache'] }],
    ['absoluteTimeout: 0', { absoluteTimeout: 0 }],
    ['absoluteTimeout: true', { absoluteTimeout: true }],
    ['noStore: "yes"', { noStore: 'yes' }]
  ] as const) {
    const app = Fastify()
    await app.register(fastifyCookie)
    await app.register(fastifySession, { secret: SECRET, cookie: { secure: 'auto' } })
    app.register(sessionSecurity, plugin as never)
    await t.rejects(async () => { await app.ready() }, { code: 'FST_SESSION_SECURITY_INVALID_OPTION' }, name)
  }
})
