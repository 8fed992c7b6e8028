// With the plugin over SessionSecurityStore on one Redis: no lost updates, no activity moved
// back, TTLs that follow the idle timeout, and the Redis commands that requests cost.
import t from 'tap'
import { startRedis } from '../helpers/redis.js'
import { buildApp, login, readActivity, secondsAgo, sessionKey, writeActivity } from '../helpers/app.js'
import { idleLeavesActiveStays, slowReaderKeepsFastWrite, slowWriterDoesNotMoveActivityBack, ttlFollowsIdleTimeout } from '../helpers/scenarios.js'

const redis = await startRedis()
t.teardown(() => redis.stop())
const client = redis.client()

t.test('lost update: a slow reader leaves the key that a fast request wrote', async t => {
  t.equal(await slowReaderKeepsFastWrite(t, client), 'book')
})

t.test('plain connect-redis loses it (the plugin falls back to a whole-session save)', async t => {
  t.equal(await slowReaderKeepsFastWrite(t, client, 'plain'), undefined, 'the scenario is real: the write is erased')
})

t.test('stale write-back: a slow request does not move activity back, no early logout', async t => {
  const { status, idle } = await slowWriterDoesNotMoveActivityBack(t, client)
  t.equal(idle, 0, 'activity is the fast request\'s')
  t.equal(status, 200, 'still logged in')
})

t.test('plain connect-redis writes back the old activity and logs the user out early', async t => {
  const { status, idle } = await slowWriterDoesNotMoveActivityBack(t, client, 'plain')
  t.equal(idle, 9, 'moved back')
  t.equal(status, 401, 'logged out early')
})

t.test('TTL follows the idle timeout', t => ttlFollowsIdleTimeout(t, client))

t.test('an idle session leaves Redis, an active one stays', t => idleLeavesActiveStays(t, client))

t.test('an expireAfter function: the TTL travels with each activity write', async t => {
  const app = await buildApp({
    client,
    store: 'security',
    plugin: { warnAfter: 3, expireAfter: request => request.session.get('user')?.name === 'admin' ? 5 : 60 }
  })
  t.teardown(() => app.close())
  for (const [user, max] of [['admin', 8000], ['bob', 63_000]] as const) {
    const cookie = await login(app, { user })
    await writeActivity(client, cookie, secondsAgo(2.5))
    t.equal((await app.inject({ url: '/page', headers: { cookie } })).statusCode, 200)
    const ttl = await client.pttl(sessionKey(cookie))
    t.ok(ttl > max - 1000 && ttl <= max, `${user}: PTTL ${ttl}`)
  }
})

t.test('Redis commands per request: one read; one script call per activityResolution', async t => {
  const app = await buildApp({ client, store: 'security', plugin: { warnAfter: 5, expireAfter: 600, activityResolution: 60 } })
  t.teardown(() => app.close())
  const cookie = await login(app)
  await writeActivity(client, cookie, secondsAgo(61.5))
  const before = await redis.commandStats()
  for (let i = 0; i < 20; i++) t.equal((await app.inject({ url: '/page', headers: { cookie } })).statusCode, 200)
  const after = await redis.commandStats()
  const delta = (name: string): number => (after[name] ?? 0) - (before[name] ?? 0)
  // GET and SET inside the script count too; the application sent 20 GETs and 1 EVALSHA.
  t.equal(delta('evalsha') + delta('eval'), 1, 'one script call for 20 requests')
  t.equal(delta('get'), 20 + 1, '20 session reads, plus the script\'s own GET')
  t.equal(delta('set'), 1, 'the script\'s SET; @fastify/session wrote nothing')
  t.ok(Date.now() - Date.parse(await readActivity(client, cookie) as string) < 2000)
})

t.test('a session written by plain connect-redis (field not first) falls back, then is migrated', async t => {
  const app = await buildApp({ client, store: 'security', plugin: { warnAfter: 5, expireAfter: 10 } })
  t.teardown(() => app.close())
  const cookie = await login(app)
  const key = sessionKey(cookie)
  const session = JSON.parse(await client.get(key) as string)
  // What connect-redis's JSON.stringify writes after an application key: the field comes last.
  await client.set(key, JSON.stringify({ ...session, list: [], _session_security: new Date(Date.now() - 3000).toISOString() }), 'KEEPTTL')
  t.equal((await app.inject({ url: '/page', headers: { cookie } })).statusCode, 200)
  const raw = await client.get(key) as string
  t.ok(raw.startsWith('{"_session_security":"'), 'the whole-session save put the field first')
  t.ok(Date.now() - Date.parse(JSON.parse(raw)._session_security) < 1500, 'activity recorded')
  t.same(JSON.parse(raw).list, [], 'application data kept')
  const before = await redis.commandStats()
  await writeActivity(client, cookie, secondsAgo(3.5))
  t.equal((await app.inject({ url: '/page', headers: { cookie } })).statusCode, 200)
  const after = await redis.commandStats()
  t.equal((after.evalsha ?? 0) - (before.evalsha ?? 0), 1, 'from then on, activity is one script call')
})
