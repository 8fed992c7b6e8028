// What a stored sign-in instant (`_session_security_since`) that the plugin did not write does:
// a string, a negative, fractional or huge number, or null is not an instant and ends the session
// as `invalid` (fail closed); one in the future counts as now (another clock); a session from
// before the field existed gets it without being signed out. (A guard: the invalid branch had no
// test.)
import { test } from 'tap'
import { SessionSecurityStore } from '../../lib/store.js'
import { login, readSession, sessionKey, startApp } from '../helpers/app.js'

test('a stored sign-in instant that is not one ends the session as invalid', async t => {
  const { app, redis } = await startApp(t, redis => ({
    store: new SessionSecurityStore({ client: redis, prefix: 'sess:' }),
    plugin: { warnAfter: 5, expireAfter: 10, absoluteTimeout: 100 }
  }))
  const cases: Array<[unknown, number, string | undefined]> = [
    ['1700000000000', 401, 'invalid'],
    [-5, 401, 'invalid'],
    [1.5, 401, 'invalid'],
    [1e20, 401, 'invalid'],
    [null, 401, 'invalid'],
    [Date.now() + 3_600_000, 200, undefined],
    [undefined, 200, undefined]
  ]
  for (const [since, status, reason] of cases) {
    const cookie = await login(app)
    await app.inject({ url: '/page', headers: { cookie } })
    const key = sessionKey(cookie)
    const session = JSON.parse(await redis.get(key) as string)
    session._session_security_since = since
    await redis.set(key, JSON.stringify(session), 'KEEPTTL')
    const response = await app.inject({ url: '/page', headers: { cookie } })
    t.equal(response.statusCode, status, `${JSON.stringify(since)}: ${status}`)
    t.equal(response.headers['session-expired'], reason)
    if (since === undefined) t.type((await readSession(redis, cookie))?._session_security_since, 'number', 'an old session gets the instant')
  }
})
