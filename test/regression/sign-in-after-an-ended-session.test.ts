// After an expiry the browser still holds the dead cookie (the plugin never sets a cookie for it),
// so the next sign-in arrives with it. The sign-in write (the first activity, the sign-in instant
// and the idle TTL, made once the session is saved) ran only for requests that started
// anonymous, so a sign-in with the cookie of an ended session kept the store's 10-minute TTL and
// no activity: a session never used after such a sign-in outlived its idle timeout in Redis.
import { test } from 'tap'
import { SessionSecurityStore } from '../../lib/store.js'
import { login, readSession, secondsAgo, sessionCookie, sessionKey, startApp, writeActivity } from '../helpers/app.js'

test('a sign-in with the cookie of an ended session gets its first activity and idle TTL', async t => {
  const { app, redis } = await startApp(t, redis => ({
    store: new SessionSecurityStore({ client: redis, prefix: 'sess:' }),
    plugin: { warnAfter: 5, expireAfter: 10 }
  }))
  const cookie = await login(app)
  await app.inject({ url: '/page', headers: { cookie } })
  await writeActivity(redis, cookie, secondsAgo(11.5))

  // Ended by an earlier request (a tombstone), then by the sign-in request itself.
  const endedBefore = (await app.inject({ url: '/page', headers: { cookie } })).headers['session-expired']
  t.equal(endedBefore, 'idle')
  const again = await app.inject({ url: '/login', headers: { cookie } })
  const other = await login(app)
  await app.inject({ url: '/page', headers: { cookie: other } })
  await writeActivity(redis, other, secondsAgo(11.5))
  const endedHere = await app.inject({ url: '/login', headers: { cookie: other } })
  t.equal(endedHere.headers['session-expired'], 'idle', 'the sign-in request ended the old session itself')

  for (const [name, response] of [['after an earlier end', again], ['ended by the sign-in request', endedHere]] as const) {
    const fresh = sessionCookie(response) as string
    t.ok(fresh !== undefined && fresh !== cookie && fresh !== other, `${name}: a new session`)
    const stored = await readSession(redis, fresh)
    t.type(stored?._session_security, 'string', `${name}: the first activity is written`)
    t.type(stored?._session_security_since, 'number', `${name}: the sign-in instant is written`)
    const ttl = await redis.ttl(sessionKey(fresh))
    t.ok(ttl > 0 && ttl <= 15, `${name}: the idle TTL (${ttl} s), not the store's 600 s`)
  }
})
