// The sign-in instant (`_session_security_since`) is what the absolute timeout counts from. The
// store's activity script used to look for its name anywhere in the session's JSON: a value that
// a user controls (a display name, a cart item, a search) spelling "_session_security_since" made
// it believe the instant was stored, so it was never written and every request started a new
// absolute lifetime. The absolute end must hold whatever the application keeps in the session.
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'tap'
import { SessionSecurityStore } from '../../lib/store.js'
import { readSession, sessionCookie, startApp } from '../helpers/app.js'

for (const name of ['_session_security_since', '_session_security']) {
  test(`a user named ${JSON.stringify(name)} is still signed out at the absolute end`, async t => {
    const { app, redis } = await startApp(t, redis => ({
      store: new SessionSecurityStore({ client: redis, prefix: 'sess:' }),
      plugin: { warnAfter: 5, expireAfter: 10, absoluteTimeout: 2 }
    }))
    const login = await app.inject({ url: `/login?user=${encodeURIComponent(name)}` })
    const cookie = sessionCookie(login) as string
    // The first request writes whatever the sign-in write could not (the whole session, once).
    t.equal((await app.inject({ url: '/page', headers: { cookie } })).statusCode, 200)
    const stored = await readSession(redis, cookie)
    t.type(stored?._session_security_since, 'number', 'the sign-in instant is stored')
    t.equal((stored?.user as { name: string }).name, name, 'the application data is kept as it was')

    await sleep(2500)
    const late = await app.inject({ url: '/page', headers: { cookie } })
    t.equal(late.statusCode, 401, 'signed out 2 s after the sign-in, though active')
    t.equal(late.headers['session-expired'], 'absolute')
  })
}
