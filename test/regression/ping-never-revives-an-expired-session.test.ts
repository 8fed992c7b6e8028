// The ping merges the idle time that the client reports. The onRequest hook found the session
// alive, but the handler runs later (the application's own preHandler hooks: a database call, a
// rate limiter), and the merge used the handler's clock: a ping that arrived just before the idle
// end and reported `idleFor=0` wrote activity after it, and the session that had been idle for
// longer than expireAfter came back. Reported activity is never later than the instant the
// session was found alive.
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'tap'
import { SessionSecurityStore } from '../../lib/store.js'
import { login, secondsAgo, startApp, writeActivity } from '../helpers/app.js'

test('a ping held past the idle end by a slow preHandler does not bring the session back', async t => {
  const { app, redis } = await startApp(t, redis => ({
    store: new SessionSecurityStore({ client: redis, prefix: 'sess:' }),
    plugin: { warnAfter: 1, expireAfter: 3 },
    routes: app => {
      app.addHook('preHandler', async request => { if (request.headers['x-slow'] !== undefined) await sleep(1500) })
    }
  }))
  const cookie = await login(app)
  await app.inject({ url: '/page', headers: { cookie } })
  await writeActivity(redis, cookie, secondsAgo(2.5))
  // Found alive (2.5 s idle of 3) and answered after the idle end, with the client's "just now".
  const ping = await app.inject({ url: '/session_security/ping/?idleFor=0', headers: { cookie, 'x-slow': '1' } })
  t.not(ping.body, '0', 'the answer does not report activity after the idle end')
  const page = await app.inject({ url: '/page', headers: { cookie } })
  t.equal(page.statusCode, 401, 'the session idle for longer than expireAfter is over')
  t.equal(page.headers['session-expired'], 'idle')
})

test('a ping answered promptly still merges the client\'s activity', async t => {
  const { app, redis } = await startApp(t, redis => ({
    store: new SessionSecurityStore({ client: redis, prefix: 'sess:' }),
    plugin: { warnAfter: 5, expireAfter: 10 }
  }))
  const cookie = await login(app)
  await app.inject({ url: '/page', headers: { cookie } })
  await writeActivity(redis, cookie, secondsAgo(6.5))
  const ping = await app.inject({ url: '/session_security/ping/?idleFor=2', headers: { cookie } })
  t.equal(ping.body, '2', 'the activity the client saw 2 s ago is merged')
})
