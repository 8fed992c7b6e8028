// Every instance measures idle time on Redis's clock (SessionSecurityStore): a server whose own
// clock is 30 s or 120 s ahead of Redis, or 120 s behind, decides as a server on a true clock would.
import { test } from 'tap'
import { SessionSecurityStore } from '../../lib/store.js'
import { login, startApp, writeActivity } from '../helpers/app.js'

const realNow = Date.now.bind(Date)
const realAgo = (seconds: number): string => new Date(realNow() - seconds * 1000).toISOString()

for (const shift of [30, 120, -120]) {
  test(`a server clock ${shift > 0 ? '+' : ''}${shift} s off Redis decides as on a true clock`, async t => {
    const { app, redis } = await startApp(t, redis => ({
      store: new SessionSecurityStore({ client: redis, prefix: 'sess:' }),
      plugin: { warnAfter: 5, expireAfter: 10 },
      routes: app => {
        app.get('/dashboard', async request => app.sessionSecurity.snippet(request))
      }
    }))
    Date.now = () => realNow() + shift * 1000
    t.teardown(() => { Date.now = realNow })

    const cookie = await login(app)
    const first = await app.inject({ url: '/dashboard', headers: { cookie } })
    t.match(first.body, /data-idle-for="0"/, 'right after activity the page is told 0 s idle')
    const again = await app.inject({ url: '/page', headers: { cookie } })
    t.equal(again.statusCode, 200, 'the second request is not logged out')

    // Half a second inside the whole second: the offset is estimated from round trips, so the
    // shared clock may trail the true one by a few milliseconds (more when the event loop is busy).
    await writeActivity(redis, cookie, realAgo(5.5))
    const ping = await app.inject({ url: '/session_security/ping/', headers: { cookie } })
    t.equal(ping.body, '5', 'the ping answers 5 s idle, as on the true clock')

    await writeActivity(redis, cookie, realAgo(11))
    const idle = await app.inject({ url: '/page', headers: { cookie } })
    t.equal(idle.statusCode, 401, 'idle 11 s on the true clock: logged out')
    t.equal(idle.headers['session-expired'], 'idle')
  })
}
