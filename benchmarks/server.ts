// One benchmark server, started by run.ts in its own process (child_process.fork, so it has an IPC
// channel). It listens on a free loopback port and answers the driver's samples over IPC: CPU time
// of this process and the Redis commands its client sent. The IPC traffic is two small messages
// per measurement, outside the HTTP load.
//
//   BENCH_SERVER=baseline  @fastify/session + connect-redis, rolling: false, saveUninitialized: false
//   BENCH_SERVER=plugin    the same plus fastify-session-security and the recommended store
//   BENCH_SERVER=rolling   @fastify/session defaults (rolling: true, saveUninitialized: true)
//   REDIS_PORT=<port>      the driver's private redis-server
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import { RedisStore } from 'connect-redis'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { writeFileSync } from 'node:fs'
import sessionSecurity from '../index.js'
import { SessionSecurityStore } from '../lib/store.js'

export type ServerKind = 'baseline' | 'plugin' | 'rolling'

export interface Sample {
  /** process.cpuUsage(): user and system microseconds since the process started. */
  cpu: NodeJS.CpuUsage
  /** Commands this process's ioredis client has sent (a script call is one command). */
  redisCommands: number
  /** HTTP requests this server has received (the load generator stops with some in flight). */
  requests: number
}

export type ServerMessage =
  | { type: 'ready', port: number, store: string }
  | { type: 'sample', id: number, sample: Sample }
  | { type: 'error', message: string }

export type DriverMessage = { type: 'sample', id: number }

declare module 'fastify' {
  interface Session {
    user?: { id: number, name: string }
  }
}

/** Counts every command the client sends, pipelines and scripts included (one per EVALSHA). */
function countCommands (client: Redis): () => number {
  let sent = 0
  const send = client.sendCommand
  client.sendCommand = function countedSendCommand (this: Redis, ...args: Parameters<Redis['sendCommand']>) {
    sent++
    return send.apply(this, args)
  } as Redis['sendCommand']
  return () => sent
}

async function main (): Promise<void> {
  const kind = process.env.BENCH_SERVER as ServerKind
  if (!['baseline', 'plugin', 'rolling'].includes(kind)) throw new Error(`unknown BENCH_SERVER ${kind}`)
  const redis = new Redis({ host: '127.0.0.1', port: Number(process.env.REDIS_PORT) })
  const sentCommands = countCommands(redis)

  // B, D and E run with the recommended store; A and C with plain connect-redis.
  const store = kind === 'plugin' ? new SessionSecurityStore({ client: redis }) : new RedisStore({ client: redis })
  const app = Fastify({ logger: false })
  await app.register(fastifyCookie)
  await app.register(fastifySession, {
    secret: 'a benchmark secret that is long enough to sign cookies',
    store,
    cookie: { secure: 'auto' },
    ...(kind === 'rolling' ? {} : { rolling: false, saveUninitialized: false })
  })
  if (kind === 'plugin') await app.register(sessionSecurity, { expireAfter: 600 })

  app.post('/login', async (request) => {
    request.session.user = { id: 42, name: 'bench' }
    return { ok: true }
  })
  app.get('/page', async (request, reply) => {
    const user = request.session.user
    if (user === undefined) return reply.code(401).send({ error: 'login required' })
    return { hello: user.name, items: [1, 2, 3] }
  })

  await app.listen({ host: '127.0.0.1', port: 0 })
  let requests = 0
  app.server.on('request', function countRequest () { requests++ })
  const { port } = app.server.address() as { port: number }

  const send = (message: ServerMessage): void => { process.send?.(message) }
  process.on('message', (message: DriverMessage) => {
    if (message.type === 'sample') send({ type: 'sample', id: message.id, sample: { cpu: process.cpuUsage(), redisCommands: sentCommands(), requests } })
  })
  // The driver going away (normally, or killed) ends this server too.
  process.once('disconnect', () => {
    app.close().finally(() => {
      redis.disconnect()
      // With --cpu-prof, the request count lets profile.ts put the profile in µs per request.
      const countFile = process.env.BENCH_REQUEST_COUNT_FILE
      if (countFile !== undefined) writeFileSync(countFile, JSON.stringify({ requests }))
      process.exit(0)
    })
  })
  send({ type: 'ready', port, store: store.constructor.name })
}

main().catch((err: Error) => {
  process.send?.({ type: 'error', message: err.stack ?? String(err) })
  process.exit(1)
})
