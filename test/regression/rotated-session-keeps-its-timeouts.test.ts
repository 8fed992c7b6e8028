// A signed-in request that rotates the session id (a re-authentication, an account switch:
// `regenerate()`, then the user) saves a new session without the plugin's fields. The sign-in
// write skipped requests that had started signed in, so the new key had no last activity and the
// store's 600 s TTL: its next request, however late, counted as the first of a sign-in, and the
// idle timeout never ended it. Keeping only the sign-in instant did the same (the activity write
// did not know the serializer's form without an activity); keeping both fields left the new key
// with the store's TTL and the activity read before the request, not the request's own.
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'tap'
import { SessionSecurityStore } from '../../lib/store.js'
import { login, readSession, secondsAgo, sessionCookie, sessionKey, startApp, writeActivity } from '../helpers/app.js'

const EXPIRE_AFTER = 2

test('a session rotated by a signed-in request gets its first activity and idle TTL, and ends when idle', async t => {
  const { app, redis } = await startApp(t, redis => ({
    store: new SessionSecurityStore({ client: redis, prefix: 'sess:' }),
    plugin: { warnAfter: 1, expireAfter: EXPIRE_AFTER },
    routes: app => {
      app.get('/switch-account', async request => {
        await request.session.regenerate()
        request.session.set('user', { id: 2, name: 'bob' })
        return { ok: true }
      })
    }
  }))
  const cookie = await login(app)
  const rotated = sessionCookie(await app.inject({ url: '/switch-account', headers: { cookie } }))
  if (rotated === undefined || rotated === cookie) throw new Error('the session id was not rotated')

  const stored = await readSession(redis, rotated)
  t.type(stored?._session_security, 'string', 'the new session has its first activity')
  t.type(stored?._session_security_since, 'number', 'and its sign-in instant')
  const ttl = await redis.ttl(sessionKey(rotated))
  t.ok(ttl > 0 && ttl <= EXPIRE_AFTER + 3, `and the idle TTL (${ttl} s), not the store's 600 s`)

  await sleep(EXPIRE_AFTER * 1000 + 500)
  const later = await app.inject({ url: '/page', headers: { cookie: rotated } })
  t.equal(later.statusCode, 401, `idle for more than expireAfter (${EXPIRE_AFTER} s): signed out`)
  t.equal(later.headers['session-expired'], 'idle')
})

test('a rotation that keeps the sign-in instant, or both fields, writes the new key\'s activity and idle TTL', async t => {
  const { app, redis } = await startApp(t, redis => ({
    store: new SessionSecurityStore({ client: redis, prefix: 'sess:' }),
    plugin: { warnAfter: 5, expireAfter: 30 },
    routes: app => {
      app.get('/rotate', async request => {
        const keep = (request.query as { keep: string }).keep.split(',')
        await request.session.regenerate(keep)
        return { ok: true }
      })
    }
  }))
  for (const keep of ['user,_session_security_since', 'user,_session_security,_session_security_since']) {
    const cookie = await login(app)
    const signedInAt = (await readSession(redis, cookie))?._session_security_since
    await writeActivity(redis, cookie, secondsAgo(10.5))
    const rotated = sessionCookie(await app.inject({ url: `/rotate?keep=${keep}`, headers: { cookie } }))
    if (rotated === undefined || rotated === cookie) throw new Error('the session id was not rotated')
    const stored = await readSession(redis, rotated)
    const age = Date.now() - Date.parse(String(stored?._session_security))
    t.ok(age >= 0 && age < 2000, `keep ${keep}: the rotating request is the last activity (${age} ms ago)`)
    t.equal(stored?._session_security_since, signedInAt, `keep ${keep}: the sign-in instant is kept`)
    const ttl = await redis.ttl(sessionKey(rotated))
    t.ok(ttl > 25 && ttl <= 35, `keep ${keep}: the idle TTL (${ttl} s), not the store's 600 s`)
  }
})
