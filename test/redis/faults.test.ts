// Redis stopped in the middle of a run and started again: prompt 5xx answers, no crash, no
// unhandled rejection, nothing half-written, and the same sessions work afterwards. The client is
// configured as the README recommends for faults.
import { once } from 'node:events'
import t from 'tap'
import { Redis } from '../helpers/ioredis.js'
import { startRedis } from '../helpers/redis.js'
import { buildApp, login, readSession, secondsAgo, writeActivity } from '../helpers/app.js'

// Append-only file with fsync on every write, so that a SIGKILL loses nothing that was acknowledged.
const redis = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always'])
t.teardown(() => redis.stop())

const client = new Redis({
  host: '127.0.0.1',
  port: redis.port,
  maxRetriesPerRequest: 0,
  enableOfflineQueue: false,
  connectTimeout: 1000,
  commandTimeout: 1000,
  retryStrategy: times => Math.min(times * 100, 1000)
})
client.on('error', () => {})
t.teardown(() => client.disconnect())
// Without the offline queue, commands sent before the connection is ready fail: wait for it.
if (client.status !== 'ready') await once(client, 'ready')
const admin = redis.client()

const problems: unknown[] = []
const onProblem = (err: unknown): void => { problems.push(err) }
process.on('unhandledRejection', onProblem)
process.on('uncaughtException', onProblem)
t.teardown(() => {
  process.off('unhandledRejection', onProblem)
  process.off('uncaughtException', onProblem)
})

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

t.test('Redis killed under load and restarted', async t => {
  const app = await buildApp({ client, store: 'security', plugin: { warnAfter: 50, expireAfter: 100, activityResolution: 0 } })
  t.teardown(() => app.close())
  const users = ['ann', 'bob', 'cy', 'dee']
  const cookies = await Promise.all(users.map(user => login(app, { user })))
  for (const [i, cookie] of cookies.entries()) {
    t.equal((await app.inject({ url: `/cart?item=item-${i}`, headers: { cookie } })).statusCode, 200)
    await writeActivity(admin, cookie, secondsAgo(5.5))
  }

  // Load: activity writes, whole-session saves and pings from every user, while Redis dies.
  const results: Array<{ status: number, ms: number }> = []
  const stop = new AbortController()
  let round = 0
  const load = Promise.all(cookies.map(async (cookie, i) => {
    while (!stop.signal.aborted) {
      const url = ['/page', `/cart?item=item-${i}`, '/session_security/ping/?idleFor=0'][round++ % 3]
      const started = Date.now()
      const response = await app.inject({ url, headers: { cookie } })
      results.push({ status: response.statusCode, ms: Date.now() - started })
      await sleep(5)
    }
  }))
  await sleep(300)
  const killedAt = results.length
  await redis.kill()
  await sleep(1500)
  stop.abort()
  await load

  const statuses = new Set(results.map(r => r.status))
  const slowest = Math.max(...results.map(r => r.ms))
  t.ok(results.slice(0, killedAt).every(r => r.status === 200), `${killedAt} requests before the kill all succeeded`)
  t.ok(results.slice(killedAt).some(r => r.status === 500), 'requests during the outage fail with 500')
  t.same([...statuses].sort(), [200, 500].filter(s => statuses.has(s)), `only 200 and 500 answers: ${[...statuses]}`)
  t.ok(slowest < 1500, `every answer came promptly (slowest ${slowest} ms)`)
  t.ok(results.length - killedAt > 20, `${results.length - killedAt} requests answered during the outage`)

  // A request during the outage: a clear error, fast.
  const started = Date.now()
  const down = await app.inject({ url: '/page', headers: { cookie: cookies[0] } })
  t.equal(down.statusCode, 500)
  t.match(JSON.parse(down.body), { statusCode: 500, error: 'Internal Server Error' })
  t.ok(Date.now() - started < 200, `answered in ${Date.now() - started} ms`)

  // Back up: the same sessions work again, with their data, and the scripts are loaded again.
  await redis.restart()
  const deadline = Date.now() + 10_000
  while (client.status !== 'ready') {
    if (Date.now() > deadline) throw new Error(`client not ready: ${client.status}`)
    await sleep(50)
  }
  for (const [i, cookie] of cookies.entries()) {
    const page = await app.inject({ url: '/page', headers: { cookie } })
    t.equal(page.statusCode, 200, `${users[i]} is still logged in`)
    t.same(JSON.parse(page.body), { user: users[i], cart: `item-${i}` })
    const session = await readSession(admin, cookie)
    t.ok(Date.now() - Date.parse(session?._session_security as string) < 2000, 'activity recorded again')
  }

  // Nothing half-written: every key is a whole session in the store's format.
  const keys = await admin.keys('sess:*')
  t.equal(keys.length, users.length)
  for (const key of keys) {
    const raw = await admin.get(key) as string
    t.match(raw, /^\{"_session_security":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",/, key)
    t.match(JSON.parse(raw), { user: { name: /^\w+$/ }, cart: /^item-\d$/, cookie: { path: '/' } }, 'whole JSON')
    t.ok(await admin.pttl(key) > 0, 'with a TTL')
  }
  t.same(problems, [], 'no unhandled rejection, no uncaught exception')
})
