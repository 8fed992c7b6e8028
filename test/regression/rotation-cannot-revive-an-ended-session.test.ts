// A signed-in request that rotates the session id (`regenerate`, keeping the user: a step-up, an
// account or organisation switch) while its session ends elsewhere (a sign-out in another tab,
// the idle end on another instance) destroyed a session that had already ended, and
// @fastify/session then saved the user under the new id: the ended session was back, with a new
// cookie and new timeouts. SessionSecurityStore now sees the rotation (@fastify/session saves the
// new id inside the callback of the old id's destroy) and, when the old session had ended, writes
// a tombstone with its reason under the new id instead of the session.
// A rotation made within activityResolution of the last activity write kept the store's 600 s TTL
// on the new key: it now gets the idle TTL in the rotating request too.
import { Writable } from 'node:stream'
import { test } from 'tap'
import type { FastifyInstance, FastifyRequest, LightMyRequestResponse } from 'fastify'
import { SessionSecurityStore, type EndReason, type EndResult } from '../../lib/store.js'
import { buildApp, login, secondsAgo, sessionCookie, sessionKey, startApp, writeActivity } from '../helpers/app.js'
import { startRedis } from '../helpers/redis.js'
import type { ExpireInfo } from '../../index.js'

const KEPT = [['user', 'role'], ['user', 'role', '_session_security', '_session_security_since']]

/** Holds the next /step-up request after its session was loaded (a slow OTP check) until released. */
let hold: { entered: () => void, released: Promise<void> } | undefined

function holdNextStepUp (): { entered: Promise<void>, release: () => void } {
  let entered!: () => void
  let release!: () => void
  const enteredPromise = new Promise<void>(resolve => { entered = resolve })
  hold = { entered, released: new Promise<void>(resolve => { release = resolve }) }
  return { entered: enteredPromise, release }
}

function rotateRoute (app: FastifyInstance): void {
  app.post('/step-up', async request => {
    const held = hold
    hold = undefined
    if (held !== undefined) {
      held.entered()
      await held.released
    }
    await request.session.regenerate((request.query as { keep: string }).keep.split(','))
    return { ok: true }
  })
  // A sign-out as @fastify/passport's logOut does it: the user dropped, the id rotated.
  app.post('/logout-rotate', async request => {
    request.session.set('user', undefined)
    await request.session.regenerate()
    return { ok: true }
  })
  // A sign-in form that regenerates, as a login should.
  app.post('/relogin', async request => {
    await request.session.regenerate()
    request.session.set('user', { id: 1, name: 'alice' })
    return { ok: true }
  })
}

function rotatingApp (t: Parameters<typeof startApp>[0]): ReturnType<typeof startApp> {
  return startApp(t, redis => ({
    store: new SessionSecurityStore({ client: redis, prefix: 'sess:' }),
    plugin: { warnAfter: 5, expireAfter: 30 },
    routes: rotateRoute
  }))
}

/** A /step-up that keeps `keep`, held after its session was loaded while `meanwhile` runs; its answer. */
async function stepUpAround (app: FastifyInstance, cookie: string, keep: string, meanwhile: () => Promise<unknown>): Promise<LightMyRequestResponse> {
  const held = holdNextStepUp()
  const stepUp = app.inject({ method: 'POST', url: `/step-up?keep=${keep}`, headers: { cookie } })
  await held.entered
  await meanwhile()
  held.release()
  return await stepUp
}

test('a sign-out in another tab while a request rotates the session id: the new id is signed out too', async t => {
  const expired: ExpireInfo[] = []
  const { app, redis } = await startApp(t, redis => ({
    store: new SessionSecurityStore({ client: redis, prefix: 'sess:' }),
    plugin: { warnAfter: 5, expireAfter: 30, onExpire: (_request, info) => { expired.push(info) } },
    routes: rotateRoute
  }))
  for (const keep of KEPT) {
    const cookie = await login(app)
    const held = holdNextStepUp()
    const stepUp = app.inject({ method: 'POST', url: `/step-up?keep=${keep.join(',')}`, headers: { cookie } })
    await held.entered
    t.equal((await app.inject({ url: '/logout', headers: { cookie } })).statusCode, 200, `keep ${keep}: signed out in another tab`)
    held.release()
    const response = await stepUp
    t.equal(response.headers['session-expired'], 'logout', 'the rotating request is told the session ended')
    const rotated = sessionCookie(response)
    if (rotated === undefined) {
      t.pass('no new session id was sent')
      continue
    }
    t.not(rotated, cookie, 'the id was rotated')
    t.equal(await redis.get(sessionKey(rotated)), '{"_session_security_ended":"logout"}', 'the new id holds a tombstone, not the user')
    const next = await app.inject({ url: '/page', headers: { cookie: rotated } })
    t.equal(next.statusCode, 401, 'the new cookie is not signed in')
    t.equal(next.headers['session-expired'], 'logout', 'and says why')
  }
  t.same(expired, [], 'a sign-out is no expiry: onExpire is not called')
})

test('the idle end on another instance while a request rotates the session id: the new id ends too, audited once', async t => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const redis = server.client()
  t.teardown(() => redis.disconnect())
  const expired: string[] = []
  const plugin = { warnAfter: 5, expireAfter: 30, onExpire: (_request: unknown, info: ExpireInfo) => { expired.push(info.reason) } }
  const first = await buildApp({ client: redis, store: new SessionSecurityStore({ client: redis, prefix: 'sess:' }), plugin, routes: rotateRoute })
  const second = await buildApp({ client: redis, store: new SessionSecurityStore({ client: redis, prefix: 'sess:' }), plugin })
  t.teardown(() => first.close())
  t.teardown(() => second.close())
  for (const keep of KEPT) {
    expired.length = 0
    const cookie = await login(first)
    await first.inject({ url: '/page', headers: { cookie } })
    const held = holdNextStepUp()
    const stepUp = first.inject({ method: 'POST', url: `/step-up?keep=${keep.join(',')}`, headers: { cookie } })
    await held.entered
    await writeActivity(redis, cookie, secondsAgo(31.5))
    const ended = await second.inject({ url: '/page', headers: { cookie } })
    t.equal(ended.headers['session-expired'], 'idle', `keep ${keep}: the other instance ends the session at its idle end`)
    held.release()
    const response = await stepUp
    t.equal(response.headers['session-expired'], 'idle', 'the rotating request is told why')
    const rotated = sessionCookie(response) as string
    t.not(rotated, cookie, 'the id was rotated')
    for (const app of [first, second]) {
      const next = await app.inject({ url: '/page', headers: { cookie: rotated } })
      t.equal(next.statusCode, 401, 'the new cookie is not signed in, on either instance')
      t.equal(next.headers['session-expired'], 'idle')
    }
    t.same(expired, ['idle'], 'onExpire once, for the one sign-in')
  }
})

test('a rotation right after an activity write gives the new key the idle TTL, not the store\'s', async t => {
  const { app, redis } = await rotatingApp(t)
  for (const headers of [{}, { 'sec-fetch-dest': 'image' }]) {
    const cookie = await login(app)
    const rotated = sessionCookie(await app.inject({ method: 'POST', url: `/step-up?keep=${KEPT[1].join(',')}`, headers: { cookie, ...headers } })) as string
    t.not(rotated, cookie, 'the id was rotated')
    const ttl = await redis.ttl(sessionKey(rotated))
    t.ok(ttl > 0 && ttl <= 33, `${JSON.stringify(headers)}: the idle TTL (${ttl} s), not 600`)
    t.equal((await app.inject({ url: '/page', headers: { cookie: rotated } })).statusCode, 200, 'and the rotated session is signed in')
  }
})

test('a rotating request sent twice at once (a double click): both new ids are signed in', async t => {
  const { app } = await rotatingApp(t)
  for (const keep of KEPT) {
    const cookie = await login(app)
    const responses = await Promise.all([1, 2].map(() => app.inject({ method: 'POST', url: `/step-up?keep=${keep.join(',')}`, headers: { cookie } })))
    t.same(responses.map(response => [response.statusCode, response.headers['session-expired']]), [[200, undefined], [200, undefined]], `keep ${keep}: both answered, neither signed out`)
    for (const response of responses) {
      const rotated = sessionCookie(response) as string
      t.equal((await app.inject({ url: '/page', headers: { cookie: rotated } })).statusCode, 200, 'its new cookie is signed in')
    }
  }
})

test('a sign-out that itself rotates the id (as @fastify/passport\'s logOut) during a rotating request: signed out too', async t => {
  const { app } = await rotatingApp(t)
  const cookie = await login(app)
  const response = await stepUpAround(app, cookie, 'user,role', async () => {
    t.equal((await app.inject({ method: 'POST', url: '/logout-rotate', headers: { cookie } })).statusCode, 200, 'signed out in another tab')
  })
  t.equal(response.headers['session-expired'], 'logout')
  const next = await app.inject({ url: '/page', headers: { cookie: sessionCookie(response) as string } })
  t.equal(next.statusCode, 401, 'the new cookie is not signed in')
})

test('a sign-in in the request that the plugin expires stands, with a logout that regenerates or the default one', async t => {
  for (const logout of [undefined, async (request: FastifyRequest) => { await request.session.regenerate() }]) {
    const { app, redis } = await startApp(t, redis => ({
      store: new SessionSecurityStore({ client: redis, prefix: 'sess:' }),
      plugin: { warnAfter: 5, expireAfter: 30, logout },
      routes: rotateRoute
    }))
    const cookie = await login(app)
    await app.inject({ url: '/page', headers: { cookie } })
    await writeActivity(redis, cookie, secondsAgo(31.5))
    const response = await app.inject({ method: 'POST', url: '/relogin', headers: { cookie } })
    t.equal(response.headers['session-expired'], 'idle', `${logout === undefined ? 'default' : 'regenerating'} logout: the old session ended`)
    const next = await app.inject({ url: '/page', headers: { cookie: sessionCookie(response) as string } })
    t.equal(next.statusCode, 200, 'and the new sign-in stands')
  }
})

test('a rotation whose destroy fails (a Redis error) after a sign-out elsewhere: the new id is not signed in', async t => {
  let failNextLogout = false
  class StoreThatFailsOnce extends SessionSecurityStore {
    override async end (sid: string, reason: EndReason): Promise<EndResult> {
      if (failNextLogout && reason === 'logout') {
        failNextLogout = false
        throw new Error('Command timed out')
      }
      return await super.end(sid, reason)
    }
  }
  const { app } = await startApp(t, redis => ({
    store: new StoreThatFailsOnce({ client: redis, prefix: 'sess:' }),
    plugin: { warnAfter: 5, expireAfter: 30 },
    routes: rotateRoute
  }))
  const cookie = await login(app)
  const response = await stepUpAround(app, cookie, 'user,role', async () => {
    await app.inject({ url: '/logout', headers: { cookie } })
    failNextLogout = true
  })
  t.equal(response.statusCode, 500, 'regenerate rejects: the request fails')
  const rotated = sessionCookie(response)
  if (rotated !== undefined) t.equal((await app.inject({ url: '/page', headers: { cookie: rotated } })).statusCode, 401, 'its new cookie is not signed in')
})

test('a store that cannot end the new id: the error is logged and the request is told the session ended', async t => {
  /** Redis refuses every end except of the ids that the application destroys. */
  class StoreThatCannotEndTheNewId extends SessionSecurityStore {
    readonly #destroyed = new Set<string>()
    override async destroy (sid: string, cb?: (err?: unknown) => void): Promise<void> {
      this.#destroyed.add(sid)
      return await super.destroy(sid, cb)
    }

    override async end (sid: string, reason: EndReason): Promise<EndResult> {
      if (!this.#destroyed.has(sid)) throw new Error('Redis is down')
      return await super.end(sid, reason)
    }
  }
  const lines: string[] = []
  const { app } = await startApp(t, redis => ({
    store: new StoreThatCannotEndTheNewId({ client: redis, prefix: 'sess:' }),
    plugin: { warnAfter: 5, expireAfter: 30 },
    routes: rotateRoute,
    logger: new Writable({ write (chunk, _encoding, callback) { lines.push(String(chunk)); callback() } })
  }))
  const cookie = await login(app)
  const response = await stepUpAround(app, cookie, 'user', async () => {
    await app.inject({ url: '/logout', headers: { cookie } })
  })
  t.equal(response.headers['session-expired'], 'logout', 'the request is told the session ended')
  t.ok(lines.some(line => JSON.parse(line).level === 50 && line.includes('could not end a session rotated after its session ended')), 'the failure is logged as an error')
})
