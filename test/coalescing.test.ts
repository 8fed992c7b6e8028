// Store writes are coalesced by activityResolution (README "Options"), counted
// from Redis itself (INFO commandstats), not from a mock.
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'tap'
import { SessionSecurityStore } from '../lib/store.js'
import { startRedis, type RedisServer } from './helpers/redis.js'
import { buildApp, login, readActivity, secondsAgo, writeActivity } from './helpers/app.js'

/** Calls of commands that write a whole session (SET) or run a script (EVALSHA/EVAL). */
async function writes (server: RedisServer): Promise<number> {
  const stats = await server.commandStats()
  return (stats.set ?? 0) + (stats.evalsha ?? 0) + (stats.eval ?? 0)
}

async function burst (server: RedisServer, activityResolution: number, requests: number, gapMs = 0) {
  const redis = server.client()
  const app = await buildApp({ client: redis, plugin: { expireAfter: 600, activityResolution } })
  try {
    const cookie = await login(app)
    await app.inject({ url: '/page', headers: { cookie } })
    // The stored activity is older than the window, so the burst owes exactly one write.
    await writeActivity(redis, cookie, secondsAgo(5.5))
    const before = await writes(server)
    const statsBefore = await server.commandStats()
    const started = Date.now()
    for (let i = 0; i < requests; i++) {
      const response = await app.inject({ url: '/page', headers: { cookie } })
      if (response.statusCode !== 200) throw new Error(`request ${i} answered ${response.statusCode}`)
      if (gapMs > 0) await sleep(gapMs)
    }
    const elapsed = Date.now() - started
    const statsAfter = await server.commandStats()
    return {
      writes: await writes(server) - before,
      reads: (statsAfter.get ?? 0) - (statsBefore.get ?? 0),
      elapsed,
      activity: await readActivity(redis, cookie)
    }
  } finally {
    await app.close()
  }
}

test('a burst inside one resolution window writes the session once', async t => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const result = await burst(server, 5, 30)
  t.ok(result.elapsed < 5000, 'the burst fits in the window')
  t.equal(result.writes, 1, 'one write for 30 requests')
  t.equal(result.reads, 30, 'every request costs one read')
  t.ok(Date.now() - Date.parse(result.activity as string) < 6000, 'that write moved the activity')
})

test('activityResolution 0 writes on every request (the count above can fail)', async t => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  // A few ms apart, so that each request's activity is a different ISO string.
  const result = await burst(server, 0, 10, 5)
  t.equal(result.writes, 10)
})

test('concurrent requests that read the same old activity share one script call (SessionSecurityStore)', async t => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const redis = server.client()
  const app = await buildApp({ client: redis, store: new SessionSecurityStore({ client: redis, prefix: 'sess:' }), plugin: { expireAfter: 600 } })
  t.teardown(() => app.close())
  const cookie = await login(app)
  await app.inject({ url: '/page', headers: { cookie } })
  await writeActivity(redis, cookie, secondsAgo(5.5))
  // A script call counts once, whatever it runs inside (its own SET shows in commandstats too).
  const scriptCalls = async (): Promise<number> => {
    const stats = await server.commandStats()
    return (stats.evalsha ?? 0) + (stats.eval ?? 0)
  }
  const before = await scriptCalls()
  const responses = await Promise.all(Array.from({ length: 20 }, () => app.inject({ url: '/page', headers: { cookie } })))
  t.ok(responses.every(r => r.statusCode === 200))
  const calls = await scriptCalls() - before
  t.equal(calls, 1, `one activity write for 20 concurrent requests (${calls})`)
  t.ok(Date.now() - Date.parse(await readActivity(redis, cookie) as string) < 1000, 'and it moved the activity')
})
