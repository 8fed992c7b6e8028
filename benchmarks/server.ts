// One benchmark server, started by driver.ts in its own process (pinned with taskset where it
// exists) with an IPC channel. It listens on a free loopback port and, when asked over IPC,
// reports its own CPU time and the requests it has received: two small messages per measured
// window, outside the HTTP load.
//
//   BENCH_SERVER=baseline  @fastify/session + connect-redis, rolling: false, saveUninitialized: false
//   BENCH_SERVER=plugin    the same plus fastify-session-security and its store
//   BENCH_SERVER=fields, fields-hidden, hidden, fields-apart: the ablation servers of config.ts (no plugin)
//   REDIS_PORT=<port>      this server's private redis-server
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import { RedisStore } from 'connect-redis'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { writeFileSync } from 'node:fs'
import sessionSecurity from '../index.js'
import { ACTIVITY_FIELD, SessionSecurityStore, SIGNED_IN_FIELD } from '../lib/store.js'
import { SERVER_KINDS, type ServerKind } from './config.js'

export interface Sample {
  /** process.cpuUsage(): user and system µs since the process started. */
  cpu: NodeJS.CpuUsage
  /** process.hrtime.bigint() in ns, as a number. */
  now: number
  /** HTTP requests received so far (the load generator stops with some in flight). */
  requests: number
}

export type ServerMessage =
  | { type: 'ready', port: number }
  | { type: 'sample', id: number, sample: Sample }
  | { type: 'error', message: string }

export interface DriverMessage { type: 'sample', id: number }

declare module 'fastify' {
  interface Session {
    user?: { id: number, name: string }
  }
}

/**
 * connect-redis's serializer for `fields-hidden` and `hidden`: it parses the whole JSON, then hands
 * @fastify/session a copy without the plugin's two fields, so they never reach its copy and hash.
 */
const withoutPluginFields: NonNullable<ConstructorParameters<typeof RedisStore>[0]['serializer']> = {
  parse (text) {
    const { [ACTIVITY_FIELD]: _activity, [SIGNED_IN_FIELD]: _since, ...rest } = JSON.parse(text)
    return rest
  },
  stringify: (session: unknown): string => JSON.stringify(session)
}

/**
 * Where `fields-apart` keeps the two fields of a session id: a key of their own, beside the
 * session's (on a Cluster, a hash tag would keep both in one slot). Not under `sess:`, where the
 * driver expects the one session.
 */
const fieldsKey = (sid: string): string => `sess-fields:${sid}`

/**
 * The store of `fields-apart`: connect-redis, whose `get` does what its own does (the client, then
 * the serializer, both awaited) with one MGET of the session and the key of the plugin's fields
 * instead of a GET, and parses both; @fastify/session gets the session alone. What keeping the
 * fields out of the session JSON would cost on each request's read (not on writes: a second key's
 * TTL and deletion are not emulated). A session without its fields key fails the request, so a
 * missing key cannot make this server look cheaper.
 */
class FieldsApartStore extends RedisStore {
  /** The fields that the last `get` read: what the plugin's hook would be handed. */
  lastFields: unknown

  override async get (sid: string, cb?: (err: unknown, data?: unknown) => void): Promise<unknown> {
    const key = this.prefix + sid
    try {
      const [data, fields] = await this.client.mget([key, fieldsKey(sid)]) as Array<string | null>
      if (!data) return cb?.(null, null)
      if (fields === null) throw new Error(`fields-apart: no ${fieldsKey(sid)}`)
      this.lastFields = await this.serializer.parse(fields)
      return cb?.(null, await this.serializer.parse(data))
    } catch (err) {
      return cb?.(err, null)
    }
  }
}

function storeFor (kind: ServerKind, redis: Redis): SessionSecurityStore | RedisStore {
  if (kind === 'plugin') return new SessionSecurityStore({ client: redis })
  if (kind === 'fields-hidden' || kind === 'hidden') return new RedisStore({ client: redis, serializer: withoutPluginFields })
  if (kind === 'fields-apart') return new FieldsApartStore({ client: redis })
  return new RedisStore({ client: redis })
}

async function main (): Promise<void> {
  const kind = process.env.BENCH_SERVER as ServerKind
  if (!Object.hasOwn(SERVER_KINDS, kind)) throw new Error(`unknown BENCH_SERVER ${kind}`)
  const redis = new Redis({ host: '127.0.0.1', port: Number(process.env.REDIS_PORT) })
  const store = storeFor(kind, redis)

  const app = Fastify({ logger: false })
  await app.register(fastifyCookie)
  await app.register(fastifySession, {
    secret: 'a benchmark secret that is long enough to sign cookies',
    store,
    cookie: { secure: 'auto' },
    rolling: false,
    saveUninitialized: false
  })
  if (kind === 'plugin') await app.register(sessionSecurity, { expireAfter: 600 })

  app.post('/login', async (request) => {
    request.session.user = { id: 42, name: 'bench' }
    if (kind === 'fields' || kind === 'fields-hidden') {
      // What the plugin's sign-in write stores: the activity in the form of toISOString(), the sign-in instant in epoch ms.
      request.session._session_security = new Date().toISOString()
      request.session._session_security_since = Date.now()
    }
    if (kind === 'fields-apart') {
      const fields = JSON.stringify({ [ACTIVITY_FIELD]: new Date().toISOString(), [SIGNED_IN_FIELD]: Date.now() })
      await redis.set(fieldsKey(request.session.sessionId), fields)
    }
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
    if (message.type !== 'sample') return
    send({ type: 'sample', id: message.id, sample: { cpu: process.cpuUsage(), now: Number(process.hrtime.bigint()), requests } })
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
  send({ type: 'ready', port })
}

main().catch((err: Error) => {
  process.send?.({ type: 'error', message: err.stack ?? String(err) })
  process.exit(1)
})
