// The ping route (README "Ping protocol"): the original's table, and every kind of bad input.
import { test } from 'tap'
import { buildApp, login, readActivity, secondsAgo, sessionKey, startApp, writeActivity } from './helpers/app.js'

const PING = '/session_security/ping/'

test('ping', async t => {
  const expired: unknown[] = []
  const { redis, app } = await startApp(t, { plugin: { warnAfter: 5, expireAfter: 10, onExpire: (_request, info) => { expired.push(info) } } })

  /** Logs in, sets the server's idle time, pings with the client's, returns the answer and cookie. */
  async function ping (serverIdle: number, query: string, headers: Record<string, string> = {}) {
    const cookie = await login(app)
    await app.inject({ url: '/page', headers: { cookie } })
    await writeActivity(redis, cookie, secondsAgo(serverIdle + 0.5))
    const response = await app.inject({ url: `${PING}${query}`, headers: { cookie, ...headers } })
    return { response, cookie, body: JSON.parse(response.body) }
  }

  t.test('the original table: server idle, client idleFor, answer', async t => {
    for (const [serverIdle, clientIdle, answer] of [[1, 4, 1], [3, 2, 2], [5, 5, 5]] as const) {
      const { response, body } = await ping(serverIdle, `?idleFor=${clientIdle}`)
      t.equal(response.statusCode, 200)
      t.equal(body, answer, `server ${serverIdle}, client ${clientIdle}`)
    }
  })

  t.test('server idle 12, client 14: logout, and the user is logged out', async t => {
    expired.length = 0
    const { response, body, cookie } = await ping(12, '?idleFor=14')
    t.equal(body, 'logout')
    t.equal(await redis.exists(sessionKey(cookie)), 0, 'old session deleted')
    t.match(expired, [{ idleFor: 12, reason: 'idle' }])
    const page = await app.inject({ url: '/page', headers: { cookie } })
    t.equal(page.statusCode, 401)
    t.equal(response.headers['cache-control'], 'no-store')
  })

  t.test('a ping merges the client activity: the session is kept alive', async t => {
    const { body, cookie } = await ping(8, '?idleFor=0')
    t.equal(body, 0)
    const stored = Date.parse(await readActivity(redis, cookie) as string)
    t.ok(Date.now() - stored < 1500, 'stored activity moved to now')
    const page = await app.inject({ url: '/page', headers: { cookie } })
    t.equal(page.statusCode, 200)
  })

  t.test('an anonymous ping answers "logout" as JSON, never cached', async t => {
    const response = await app.inject({ url: PING })
    t.equal(response.statusCode, 200)
    t.equal(response.body, '"logout"')
    t.match(response.headers['content-type'], /^application\/json/)
    t.equal(response.headers['cache-control'], 'no-store')
  })

  t.test('right after login the ping answers 0', async t => {
    const cookie = await login(app)
    const response = await app.inject({ url: PING, headers: { cookie } })
    t.equal(response.body, '0')
    t.type(await readActivity(redis, cookie), 'string', 'step 2 recorded the activity')
  })

  t.test('bad idleFor is ignored: the answer is the server idle time and nothing moves', async t => {
    const bad = ['abc', '1.5', '1e3', '+3', '', '0x10', '1'.repeat(400)]
    for (const value of bad) {
      const { response, body, cookie } = await ping(4, `?idleFor=${encodeURIComponent(value)}`)
      t.equal(response.statusCode, 200, `idleFor=${value.slice(0, 12)}`)
      t.equal(body, 4, `idleFor=${value.slice(0, 12)} answers the server idle time`)
      const stored = Date.parse(await readActivity(redis, cookie) as string)
      t.ok(Date.now() - stored >= 4000, 'stored activity not moved')
    }
    const repeated = await ping(4, '?idleFor=0&idleFor=0')
    t.equal(repeated.body, 4, 'a repeated parameter is ignored')
    const missing = await ping(4, '')
    t.equal(missing.body, 4, 'no parameter')
  })

  t.test('a negative idleFor counts as 0', async t => {
    const { body, cookie } = await ping(4, '?idleFor=-5')
    t.equal(body, 0)
    const stored = Date.parse(await readActivity(redis, cookie) as string)
    t.ok(stored <= Date.now(), 'never in the future')
    t.ok(Date.now() - stored < 1500, 'moved to now')
  })

  t.test('only same-origin (or no Sec-Fetch-Site) may report activity', async t => {
    for (const site of ['cross-site', 'same-site']) {
      const { body, cookie } = await ping(4, '?idleFor=0', { 'sec-fetch-site': site })
      t.equal(body, 4, `${site}: answered without the merge`)
      const stored = Date.parse(await readActivity(redis, cookie) as string)
      t.ok(Date.now() - stored >= 4000, `${site}: stored activity not moved`)
    }
    for (const site of ['same-origin', 'none']) {
      const { body } = await ping(4, '?idleFor=0', { 'sec-fetch-site': site })
      t.equal(body, 0, `${site}: merged`)
    }
  })

  t.test('the merge never moves activity backwards', async t => {
    const { body, cookie } = await ping(2, '?idleFor=9')
    t.equal(body, 2)
    const stored = Date.parse(await readActivity(redis, cookie) as string)
    t.ok(Date.now() - stored >= 2000 && Date.now() - stored < 3500, 'stored activity kept')
  })

  t.test('a merge writes whenever the report is newer in whole seconds, even inside activityResolution', async t => {
    const cookie = await login(app)
    await app.inject({ url: '/page', headers: { cookie } })
    await writeActivity(redis, cookie, secondsAgo(1.5))
    const response = await app.inject({ url: `${PING}?idleFor=0`, headers: { cookie } })
    t.equal(response.body, '0')
    const age = Date.now() - Date.parse(await readActivity(redis, cookie) as string)
    t.ok(age >= 0 && age < 400, `stored as answered (${age} ms old): the answer never runs ahead of the store`)
  })

  t.test('a report equal to the server count in whole seconds (an echo) moves nothing', async t => {
    const cookie = await login(app)
    await app.inject({ url: '/page', headers: { cookie } })
    const stored = secondsAgo(0.2)
    await writeActivity(redis, cookie, stored)
    const response = await app.inject({ url: `${PING}?idleFor=0`, headers: { cookie } })
    t.equal(response.body, '0')
    t.equal(await readActivity(redis, cookie), stored, 'the stored activity is unchanged')
  })

  t.test('a stored value in the future counts as now', async t => {
    const cookie = await login(app)
    await app.inject({ url: '/page', headers: { cookie } })
    await writeActivity(redis, cookie, new Date(Date.now() + 3600_000).toISOString())
    const response = await app.inject({ url: PING, headers: { cookie } })
    t.equal(response.body, '0')
  })

  t.test('idle time over 24 hours does not wrap around', async t => {
    const long = await buildApp({ client: redis, plugin: { expireAfter: 200_000 } })
    t.teardown(() => long.close())
    const cookie = await login(long)
    await long.inject({ url: '/page', headers: { cookie } })
    await writeActivity(redis, cookie, secondsAgo(90_000.5))
    const response = await long.inject({ url: PING, headers: { cookie } })
    t.equal(response.body, '90000')
  })
})
