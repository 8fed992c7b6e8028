// Runs the demo: `npm run demo`. Sessions live in Redis at REDIS_URL when one answers within a
// second (default redis://127.0.0.1:6379), else in @fastify/session's in-memory store; the first
// log line says which. Timeouts are short so that a visitor sees the warning within a minute.
import { buildDemo } from './app.js'
import { connectRedis } from './redis.js'

function seconds (name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number of seconds, got ${JSON.stringify(raw)}`)
  return value
}

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const warnAfter = seconds('WARN_AFTER', 20)
const expireAfter = seconds('EXPIRE_AFTER', 40)
if (warnAfter >= expireAfter) throw new Error(`WARN_AFTER (${warnAfter}) must be less than EXPIRE_AFTER (${expireAfter})`)
const port = Number(process.env.PORT ?? 3000)
const host = process.env.HOST ?? '127.0.0.1'
const password = process.env.DEMO_PASSWORD ?? 'demo'

const redis = await connectRedis(redisUrl)
const safeUrl = redisUrl.replace(/\/\/[^@/]*@/, '//***@')
const storeLabel = redis === undefined ? `in-memory store (no Redis answered at ${safeUrl})` : `Redis at ${safeUrl}`

const app = await buildDemo({
  warnAfter,
  expireAfter,
  redis,
  storeLabel,
  password,
  secret: process.env.SESSION_SECRET,
  logger: { level: process.env.LOG_LEVEL ?? 'info' }
})
app.log.info(`session store: ${storeLabel}`)

if (redis !== undefined) {
  // One line when Redis goes away and one when it is back, not one per reconnection attempt.
  let connected = true
  redis.on('error', err => {
    if (!connected) return
    connected = false
    app.log.error(`redis: ${err.message}; pages that need a session answer 500 until it is back`)
  })
  redis.on('ready', () => {
    if (connected) return
    connected = true
    app.log.info('redis: connected again')
  })
  app.addHook('onClose', async () => { redis.disconnect() })
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    app.close().then(() => process.exit(0), err => {
      app.log.error(err)
      process.exit(1)
    })
  })
}

await app.listen({ port, host })
app.log.info(`demo: open http://${host}:${port}/ and sign in with any user name and the password "${password}"; warning after ${warnAfter} s idle, sign-out after ${expireAfter} s`)
