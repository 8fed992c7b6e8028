// The paths a busy application rarely takes, each failing safe: a sign-in whose first activity
// write fails, an activity write that fails and must be tried again, a session ended while its
// activity was being written, a sign-in instant already past its absolute end on the first
// request, an absoluteTimeout function that returns no number, a path that cannot be decoded, and
// a sign-in write that outlasts Fastify's handler timeout.
import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { test } from 'tap'
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import Fastify from 'fastify'
import sessionSecurity from '../../index.js'
import { SessionSecurityStore } from '../../lib/store.js'
import type { EndReason, RecordResult } from '../../lib/store.js'
import { SECRET, login, readActivity, readSession, secondsAgo, sessionKey, settled, startApp, writeActivity } from '../helpers/app.js'
import { startRedis } from '../helpers/redis.js'
import type { Redis } from 'ioredis'

const unhandled: unknown[] = []
process.on('unhandledRejection', reason => { unhandled.push(reason) })

/** SessionSecurityStore whose next activity write fails, as a Redis error would make it. */
class FlakyStore extends SessionSecurityStore {
  failNext = false
  override async recordActivity (sid: string, at: number, ttl: number, since?: number): Promise<RecordResult> {
    if (this.failNext) {
      this.failNext = false
      throw new Error('connection lost')
    }
    return super.recordActivity(sid, at, ttl, since)
  }
}

test('a sign-in whose first activity write fails is logged, and the next request records it', async t => {
  const lines: string[] = []
  const logger = new Writable({ write (chunk, _encoding, callback) { lines.push(String(chunk)); callback() } })
  let store!: FlakyStore
  const { app, redis } = await startApp(t, redis => {
    store = new FlakyStore({ client: redis, prefix: 'sess:' })
    return { store, logger, plugin: { expireAfter: 60 } }
  })
  store.failNext = true
  const cookie = await login(app)
  t.ok(lines.some(line => line.includes('could not record the sign-in') && JSON.parse(line).level === 40), 'logged as a warning')
  t.equal(await readActivity(redis, cookie), undefined, 'nothing was written')
  t.equal((await app.inject({ url: '/page', headers: { cookie } })).statusCode, 200)
  t.type(await readActivity(redis, cookie), 'string', 'the next request records the sign-in')
})

test('a failed activity write is not shared: the next request writes again', async t => {
  let store!: FlakyStore
  const { app, redis } = await startApp(t, redis => {
    store = new FlakyStore({ client: redis, prefix: 'sess:' })
    return { store, plugin: { expireAfter: 60 } }
  })
  const cookie = await login(app)
  const old = secondsAgo(5.5)
  await writeActivity(redis, cookie, old)
  store.failNext = true
  t.equal((await app.inject({ url: '/page', headers: { cookie } })).statusCode, 500, 'a clear failure')
  t.equal(await readActivity(redis, cookie), old, 'nothing half-written')
  t.equal((await app.inject({ url: '/page', headers: { cookie } })).statusCode, 200)
  t.not(await readActivity(redis, cookie), old, 'the next request, which read the same value, wrote it')
})

test('a session ended while its activity was written: anonymous, and told why', async t => {
  let endFirst: { store: SessionSecurityStore, sid: string, reason: EndReason } | undefined
  const { app, redis } = await startApp(t, redis => {
    const store = new SessionSecurityStore({ client: redis, prefix: 'sess:' })
    return {
      store,
      plugin: {
        expireAfter: 60,
        isAuthenticated: async request => {
          const signedIn = request.session.get('user') != null
          if (endFirst !== undefined) await endFirst.store.end(endFirst.sid, endFirst.reason)
          endFirst = undefined
          return signedIn
        }
      },
      routes: app => { app.get('/who', async request => ({ user: request.session.get('user') ?? null, expiry: request.sessionExpiry })) }
    }
  })
  const cookie = await login(app)
  await writeActivity(redis, cookie, secondsAgo(5.5))
  const store = new SessionSecurityStore({ client: redis as Redis, prefix: 'sess:' })
  endFirst = { store, sid: sessionKey(cookie).slice('sess:'.length), reason: 'logout' }
  const response = await app.inject({ url: '/who', headers: { cookie } })
  t.same(response.json(), { user: null, expiry: { reason: 'logout', idleFor: 0 } })
  t.equal(response.headers['session-expired'], 'logout')
})

test('a first request whose kept sign-in instant is already past the absolute end', async t => {
  const { app, redis } = await startApp(t, { store: 'security', plugin: { expireAfter: 60, absoluteTimeout: 3600 } })
  const cookie = await login(app)
  await settled(app)
  // As a regenerate that kept the sign-in instant but not the activity leaves it.
  const session = await readSession(redis, cookie) as Record<string, unknown>
  delete session._session_security
  session._session_security_since = Date.now() - 7_200_000
  await redis.set(sessionKey(cookie), JSON.stringify(session), 'KEEPTTL')
  const response = await app.inject({ url: '/page', headers: { cookie } })
  t.equal(response.statusCode, 401)
  t.equal(response.headers['session-expired'], 'absolute')
})

test('an absoluteTimeout function that returns no number of seconds answers 500', async t => {
  for (const [name, result] of [['0', 0], ['a string', '3600'], ['a promise', Promise.resolve(3600)], ['a rejected promise', 'reject']] as const) {
    unhandled.length = 0
    let broken = false
    const { app } = await startApp(t, {
      store: 'security',
      plugin: {
        expireAfter: 60,
        absoluteTimeout: (() => broken ? (result === 'reject' ? Promise.reject(new Error('db down')) : result) : 3600) as never
      }
    })
    const cookie = await login(app)
    broken = true
    const response = await app.inject({ url: '/page', headers: { cookie } })
    await new Promise(resolve => setTimeout(resolve, 20))
    t.equal(response.statusCode, 500, `${name}: 500`)
    t.equal(response.json().code, 'FST_SESSION_SECURITY_INVALID_ABSOLUTE_TIMEOUT')
    t.same(unhandled, [], `${name}: no unhandled rejection`)
  }
})

test('a path that cannot be decoded never counts as activity', async t => {
  const { app, redis } = await startApp(t, { store: 'security', plugin: { expireAfter: 60, passiveUrls: ['/api/status'] } })
  const cookie = await login(app)
  const old = secondsAgo(5.5)
  await writeActivity(redis, cookie, old)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  // The router cuts the path at '#', so the request reaches /page; the raw URL keeps a broken escape.
  const status = await new Promise<number>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/page#%E0%A4%A', headers: { cookie } }, res => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', reject)
    req.end()
  })
  t.equal(status, 200)
  t.equal(await readActivity(redis, cookie), old, 'no activity recorded')
})

test('a sign-in write that outlasts the handler timeout: Fastify answers, nothing crashes', async t => {
  // Fastify's handlerTimeout answers (503) while the plugin's onSend hook waits for the sign-in
  // write; when the write ends, the answer cannot be sent a second time. That throw used to be an
  // unhandled rejection, which ends a Node process by default.
  const server = await startRedis()
  t.teardown(() => server.stop())
  let release!: () => void
  const writeHeld = new Promise<void>(resolve => { release = resolve })
  let writeStarted!: () => void
  const started = new Promise<void>(resolve => { writeStarted = resolve })
  class SlowStore extends SessionSecurityStore {
    override async recordActivity (sid: string, at: number, ttl: number, since?: number): Promise<RecordResult> {
      writeStarted()
      await writeHeld
      return super.recordActivity(sid, at, ttl, since)
    }
  }
  const lines: string[] = []
  const app = Fastify({ handlerTimeout: 50, logger: { level: 'error', stream: new Writable({ write (chunk, _encoding, callback) { lines.push(String(chunk)); callback() } }) } })
  t.teardown(() => app.close())
  await app.register(fastifyCookie)
  await app.register(fastifySession, { secret: SECRET, store: new SlowStore({ client: server.client() }), cookie: { secure: 'auto' }, saveUninitialized: false })
  await app.register(sessionSecurity, { expireAfter: 60 })
  app.get('/login', async request => {
    request.session.set('user', { id: 1, name: 'alice' })
    return { ok: true }
  })
  unhandled.length = 0
  const answer = app.inject({ url: '/login' })
  await started
  // Past the handler timeout, the write ends (Fastify's timeout answer waits for it too: the
  // plugin's onSend hook runs for that answer as well).
  setTimeout(release, 200)
  const response = await answer
  t.equal(response.statusCode, 503, 'Fastify answered with its handler timeout')
  await new Promise(resolve => setTimeout(resolve, 50))
  t.same(unhandled, [], 'no unhandled rejection')
  t.ok(lines.some(line => line.includes('could not send the answer after the sign-in write')), 'the second answer is logged as an error')
})
