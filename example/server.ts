// Runs the demo: `npm run demo`. Sessions live in Redis at REDIS_URL when one answers within a
// second (default redis://127.0.0.1:6379), else in @fastify/session's in-memory store; the first
// log line says which. Timeouts are short so that a visitor sees the warning within a minute.
import { RedisStore } from 'connect-redis'
import { Redis } from 'ioredis'
import { buildDemo } from './app.js'

function seconds (name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number of seconds, got ${JSON.stringify(raw)}`)
  return value
}

/** A client when Redis answers PING within a second, else undefined (and nothing left open). */
async function connectRedis (url: string): Promise<Redis | undefined> {
  const probe = new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null })
  probe.on('error', () => {})
  try {
    await Promise.race([
      probe.connect().then(() => probe.ping()),
      new Promise((_resolve, reject) => setTimeout(() => reject(new Error('timeout')), 1000).unref())
    ])
  } catch {
    return undefined
  } finally {
    probe.disconnect()
  }
  // Once chosen, a lost Redis must give prompt errors (5xx), not pages that hang while it is down.
  const client = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: times => Math.min(times * 200, 2000) })
  client.on('error', err => { console.error(`redis: ${err.message}`) })
  return client
}

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const warnAfter = seconds('WARN_AFTER', 20)
const expireAfter = seconds('EXPIRE_AFTER', 40)
if (warnAfter >= expireAfter) throw new Error(`WARN_AFTER (${warnAfter}) must be less than EXPIRE_AFTER (${expireAfter})`)
const port = Number(process.env.PORT ?? 3000)
const host = process.env.HOST ?? '127.0.0.1'

const redis = await connectRedis(redisUrl)
const safeUrl = redisUrl.replace(/\/\/[^@/]*@/, '//***@')
const storeLabel = redis === undefined ? `in-memory store (no Redis answered at ${safeUrl})` : `Redis at ${safeUrl}`

const app = await buildDemo({
  warnAfter,
  expireAfter,
  store: redis === undefined ? undefined : new RedisStore({ client: redis, prefix: 'fss-demo:' }),
  storeLabel,
  password: process.env.DEMO_PASSWORD ?? 'demo',
  secret: process.env.SESSION_SECRET,
  logger: { level: process.env.LOG_LEVEL ?? 'info' }
})
app.log.info(`session store: ${storeLabel}`)
app.addHook('onClose', async () => { redis?.disconnect() })

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => { void app.close().then(() => process.exit(0)) })
}

await app.listen({ port, host })
app.log.info(`demo: open http://${host}:${port}/ and sign in with any user name and the password "${process.env.DEMO_PASSWORD ?? 'demo'}"; warning after ${warnAfter} s idle, sign-out after ${expireAfter} s`)
