// The plugin's two fields (`_session_security`, `_session_security_since`) on every path that reads
// or writes a session with SessionSecurityStore: they read on `request.session`, every save keeps
// them (a slow request whose key left Redis meanwhile, a session that reload() read, fields in
// another serializer's places, a ping), an async onRequest hook between @fastify/session and the
// plugin changes nothing, a store that wraps SessionSecurityStore still works, a stored value that
// is not a session is no session, and a sign-in that keeps application keys never inherits
// another sign-in's instant. Written against an attempt to keep the fields out of the session
// object (to spare @fastify/session copying and hashing them), which broke most of these; kept as
// the guard for any such change.
import type fastifySession from '@fastify/session'
import type { FastifyInstance } from 'fastify'
import { test } from 'tap'
import { SessionSecurityStore } from '../../lib/store.js'
import { gate, login, readActivity, readSession, secondsAgo, sessionCookie, sessionKey, settled, startApp, writeActivity } from '../helpers/app.js'

const LIFETIME = { warnAfter: 5, expireAfter: 10, absoluteTimeout: 100 }

interface Inspected { keys: string[], activity: unknown, since: unknown }

/** Routes that show the session as the application sees it, reload it, and rotate it. */
function inspectRoutes (app: FastifyInstance): void {
  app.get('/inspect', async request => ({
    keys: Object.keys(request.session),
    activity: request.session._session_security,
    since: request.session._session_security_since
  }))
  app.get('/reload-passive', { config: { sessionSecurity: { passive: true } } }, async request => {
    await request.session.reload()
    request.session.set('note', 'reloaded')
    return { user: request.session.get('user')?.name ?? null }
  })
  app.get('/set-since', async request => {
    request.session._session_security_since = Date.now() - 200_000
    return { ok: true }
  })
  // A sign-in that keeps application keys (as @fastify/passport's logIn keeps its own), and the
  // README's recipe for a rotation that keeps the absolute timeout.
  app.get('/rotate', async request => {
    const { keep } = request.query as { keep?: string }
    await request.session.regenerate(keep === 'since' ? ['user', '_session_security_since'] : ['user'])
    return { ok: true }
  })
}

test('the fields read on request.session; saves keep them; an assignment is saved', async t => {
  const { app, redis } = await startApp(t, { store: 'security', plugin: LIFETIME, routes: inspectRoutes })
  const cookie = await login(app)
  await app.inject({ url: '/page', headers: { cookie } })
  const stored = await readSession(redis, cookie)
  t.type(stored?._session_security, 'string')
  t.type(stored?._session_security_since, 'number')

  const seen = (await app.inject({ url: '/inspect', headers: { cookie } })).json<Inspected>()
  t.equal(seen.activity, stored?._session_security, 'request.session._session_security reads the stored activity')
  t.equal(seen.since, stored?._session_security_since, 'and the sign-in instant')

  // A save of application data keeps them (the activity as it was, or later if this request wrote one).
  await app.inject({ url: '/cart?item=book', headers: { cookie } })
  await settled(app)
  const saved = await readSession(redis, cookie)
  t.equal(saved?.cart, 'book')
  t.ok(Date.parse(saved?._session_security as string) >= Date.parse(stored?._session_security as string), 'the activity is kept or later')
  t.equal(saved?._session_security_since, stored?._session_security_since)

  // An assignment is saved, and the next request sees it.
  t.equal((await app.inject({ url: '/set-since', headers: { cookie } })).statusCode, 200)
  const late = await app.inject({ url: '/page', headers: { cookie } })
  t.equal(late.statusCode, 401, 'the assigned sign-in instant is past the absolute timeout')
  t.equal(late.headers['session-expired'], 'absolute')
})

test('an idle session ends when an async onRequest hook runs between the store and the plugin', async t => {
  const { app, redis } = await startApp(t, {
    store: 'security',
    plugin: LIFETIME,
    routes: inspectRoutes,
    // The plugin's hook no longer runs inside the store's callback (where the store tells why a session ended).
    beforePlugin: app => { app.addHook('onRequest', async () => { await new Promise(resolve => setImmediate(resolve)) }) }
  })
  const cookie = await login(app)
  t.equal((await app.inject({ url: '/page', headers: { cookie } })).statusCode, 200)
  const stored = await readActivity(redis, cookie)
  t.equal((await app.inject({ url: '/inspect', headers: { cookie } })).json<Inspected>().activity, stored)
  await writeActivity(redis, cookie, secondsAgo(30))
  const idle = await app.inject({ url: '/page', headers: { cookie } })
  t.equal(idle.statusCode, 401, 'not taken for a new sign-in')
  t.equal(idle.headers['session-expired'], 'idle')
})

test('a store that wraps SessionSecurityStore without being one gets the whole session', async t => {
  let wrapped!: SessionSecurityStore
  const { app, redis } = await startApp(t, redis => {
    wrapped = new SessionSecurityStore({ client: redis })
    const wrapper: fastifySession.SessionStore = {
      // The store calls back; what it returns is the callback's own outcome, left unhandled on purpose.
      get: (sid, cb) => wrapped.get(sid, cb),
      set: (sid, session, cb) => wrapped.set(sid, session, cb),
      destroy: (sid, cb) => wrapped.destroy(sid, cb)
    }
    return { store: wrapper, plugin: LIFETIME, routes: inspectRoutes }
  })
  const cookie = await login(app)
  await app.inject({ url: '/page', headers: { cookie } })
  t.ok((await app.inject({ url: '/inspect', headers: { cookie } })).json<Inspected>().keys.includes('_session_security'),
    'a key of the session object')
  await writeActivity(redis, cookie, secondsAgo(30))
  const idle = await app.inject({ url: '/page', headers: { cookie } })
  t.equal(idle.statusCode, 401)
  t.equal(idle.headers['session-expired'], 'idle')
})

test('a session reloaded and saved by a passive route keeps its activity and gets none', async t => {
  const { app, redis } = await startApp(t, { store: 'security', plugin: LIFETIME, routes: inspectRoutes })
  const cookie = await login(app)
  const before = secondsAgo(6.5)
  await writeActivity(redis, cookie, before)
  const stored = await readSession(redis, cookie)
  t.same((await app.inject({ url: '/reload-passive', headers: { cookie } })).json(), { user: 'alice' })
  await settled(app)
  const after = await readSession(redis, cookie)
  t.equal(after?.note, 'reloaded', 'saved')
  t.equal(after?._session_security, before, 'the activity is not moved')
  t.equal(after?._session_security_since, stored?._session_security_since, 'nor the sign-in instant')
})

test('a slow passive request whose key expires while it runs saves the activity it read', async t => {
  const { app, redis } = await startApp(t, { store: 'security', plugin: LIFETIME })
  const cookie = await login(app)
  const read = secondsAgo(6.5)
  await writeActivity(redis, cookie, read)
  const slow = gate(app, 'slow')
  const pending = app.inject({ url: '/slow-passive?gate=slow&write=late', headers: { cookie } })
  await slow.entered
  await redis.del(sessionKey(cookie)) // its TTL ran out
  slow.release()
  t.equal((await pending).statusCode, 200)
  await settled(app)
  const saved = await readSession(redis, cookie)
  t.equal(saved?.note, 'late')
  t.equal(saved?._session_security, read, 'written back with the activity it read, not as a new sign-in')
  t.type(saved?._session_security_since, 'number')
})

// (A stored sign-in instant that is not one, `null` included: stored-sign-in-instant-variants.test.ts.)
test('a stored value that is not a session is answered as no session', async t => {
  const { app, redis } = await startApp(t, { store: 'security', plugin: LIFETIME })
  const other = await login(app)
  await redis.set(sessionKey(other), 'null', 'KEEPTTL')
  const nothing = await app.inject({ url: '/page', headers: { cookie: other } })
  t.equal(nothing.statusCode, 401, 'a stored null is no session: answered as anonymous, not a 500 and not a hung request')
  t.equal(nothing.headers['session-expired'], undefined)
})

test('fields in another serializer\'s places survive a save and a ping', async t => {
  const { app, redis } = await startApp(t, { store: 'security', plugin: LIFETIME })
  const since = Date.now() - 5000
  for (const url of ['/cart?item=pen', '/session_security/ping/?idleFor=0']) {
    const cookie = await login(app)
    const session = await readSession(redis, cookie) as Record<string, unknown>
    const activity = secondsAgo(2.5)
    await redis.set(sessionKey(cookie), JSON.stringify({ user: session.user, _session_security: activity, role: 'user', _session_security_since: since }), 'KEEPTTL')
    t.equal((await app.inject({ url, headers: { cookie } })).statusCode, 200, url)
    await settled(app)
    const saved = await readSession(redis, cookie)
    t.equal(saved?._session_security_since, since, `${url}: the sign-in instant is kept`)
    t.ok(Date.parse(saved?._session_security as string) >= Date.parse(activity), `${url}: the activity is kept or later`)
  }
})

test('a sign-in that keeps application keys starts a new sign-in instant, unless told to keep it', async t => {
  const { app, redis } = await startApp(t, { store: 'security', plugin: LIFETIME, routes: inspectRoutes })
  for (const keep of [undefined, 'since']) {
    const cookie = await login(app)
    await app.inject({ url: '/page', headers: { cookie } })
    const old = Date.now() - 90_000
    const session = await readSession(redis, cookie) as Record<string, unknown>
    await redis.set(sessionKey(cookie), JSON.stringify({ ...session, _session_security_since: old }), 'KEEPTTL')
    const rotated = await app.inject({ url: keep === undefined ? '/rotate' : '/rotate?keep=since', headers: { cookie } })
    await settled(app)
    const next = sessionCookie(rotated) as string
    const since = (await readSession(redis, next))?._session_security_since as number
    if (keep === undefined) t.ok(since > old + 60_000, 'regenerate([\'user\']): a new instant')
    else t.equal(since, old, 'regenerate([..., \'_session_security_since\']): the old instant')
  }
})
