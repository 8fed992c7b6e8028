// The one test harness: the secret, the application under test, sign-in, and reading and writing
// what the store keeps. The application is @fastify/cookie + @fastify/session (rolling: false,
// saveUninitialized: false, secure: 'auto') over connect-redis's RedisStore (the plugin's fallback
// path), SessionSecurityStore, @fastify/session's memory store or a store of the test's own, with
// the plugin and a few routes, one of which waits on a gate (a slow request). Tests that run on
// both ioredis majors pass a client made with test/helpers/ioredis.ts; startApp() makes one.
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import { RedisStore } from 'connect-redis'
import Fastify, { type FastifyInstance, type FastifyRequest, type LightMyRequestResponse } from 'fastify'
import sessionSecurity, { type SessionSecurityOptions } from '../../index.js'
import { SessionSecurityStore, sessionSerializer } from '../../lib/store.js'
import { IOREDIS_MAJOR, type Cluster, type Redis } from './ioredis.js'
import { startRedis, type RedisServer } from './redis.js'
import './session.js'

export const SECRET = 'a-test-secret-that-is-at-least-32-characters-long'
export const PREFIX = 'sess:'

export type Client = Redis | Cluster
type Teardown = { teardown: (fn: () => unknown) => void }

export interface TestAppOptions {
  /** The Redis (or Cluster) client of the Redis stores; not needed for 'memory' or a store of the test's own. */
  client?: Client
  /**
   * 'plain' (the default): connect-redis's RedisStore; 'security': SessionSecurityStore;
   * 'memory': @fastify/session's memory store; or a store object.
   */
  store?: 'plain' | 'security' | 'memory' | fastifySession.SessionStore
  plugin?: SessionSecurityOptions
  /** More @fastify/session options. */
  session?: Record<string, unknown>
  /** More routes, added before the application is ready. */
  routes?: (app: FastifyInstance) => void
  /** Runs between @fastify/session and the plugin (an application's own hooks registered there). */
  beforePlugin?: (app: FastifyInstance) => void
  /** Where the application's logs (level info) go; none without it. */
  logger?: NodeJS.WritableStream
}

export interface Gate {
  /** Resolves when a request has entered the handler (its session is loaded). */
  entered: Promise<void>
  release: () => void
}

/** For each application: its gates, and how to wait until its requests have finished all their hooks. */
const harness = new WeakMap<FastifyInstance, {
  gates: Map<string, { enter: () => void, wait: Promise<void> }>
  settled: () => Promise<void>
}>()

function sessionStore (store: TestAppOptions['store'], client: Client | undefined): fastifySession.SessionStore | undefined {
  if (store === 'memory') return undefined
  if (typeof store === 'object') return store
  if (client === undefined) throw new Error(`the ${store ?? 'plain'} store needs a client`)
  return store === 'security' ? new SessionSecurityStore({ client }) : new RedisStore({ client, prefix: PREFIX })
}

export async function buildApp ({ client, store, plugin = {}, session = {}, routes, beforePlugin, logger }: TestAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify(logger === undefined ? {} : { logger: { level: 'info', stream: logger } })
  const chosen = sessionStore(store, client)
  await app.register(fastifyCookie)
  await app.register(fastifySession, {
    secret: SECRET,
    ...(chosen === undefined ? {} : { store: chosen }),
    rolling: false,
    saveUninitialized: false,
    cookie: { secure: 'auto' },
    ...session
  })
  beforePlugin?.(app)
  await app.register(sessionSecurity, plugin)

  // Added after the plugin's hooks, so they run after its hooks have finished.
  const inFlight = new Set<Promise<void>>()
  const finish = new WeakMap<FastifyRequest, () => void>()
  app.addHook('onRequest', (request, _reply, done) => {
    let resolve!: () => void
    const finished = new Promise<void>(_resolve => { resolve = _resolve })
    inFlight.add(finished)
    finish.set(request, () => { inFlight.delete(finished); resolve() })
    done()
  })
  app.addHook('onResponse', (request, _reply, done) => {
    finish.get(request)?.()
    done()
  })
  const gates = new Map<string, { enter: () => void, wait: Promise<void> }>()
  harness.set(app, { gates, settled: async () => { await Promise.all(inFlight) } })

  app.get('/login', async request => {
    const { user = 'alice', role = 'user' } = request.query as { user?: string, role?: string }
    request.session.set('user', { id: 1, name: user })
    request.session.set('role', role)
    return { ok: true }
  })
  app.get('/page', async (request, reply) => {
    const user = request.session.get('user')
    if (user === undefined) return reply.code(401).send({ error: 'login required' })
    return { user: user.name, cart: request.session.get('cart') ?? null }
  })
  // The application's own sign-out: @fastify/session's destroy, which calls the store's.
  app.get('/logout', async request => {
    await request.session.destroy()
    return { ok: true }
  })
  app.get('/cart', async request => {
    const { item } = request.query as { item: string }
    request.session.set('cart', item)
    return { ok: true }
  })
  // Waits on a gate (see gate()); writes application data when asked to. Passive when asked to (a long poll).
  const slow = async (request: FastifyRequest): Promise<{ user: string | null }> => {
    const { gate, write } = request.query as { gate: string, write?: string }
    const entry = gates.get(gate)
    if (entry === undefined) throw new Error(`no gate ${gate}`)
    entry.enter()
    await entry.wait
    if (write !== undefined) request.session.set('note', write)
    return { user: request.session.get('user')?.name ?? null }
  }
  app.get('/slow', slow)
  app.get('/slow-passive', { config: { sessionSecurity: { passive: true } } }, slow)
  app.get('/instance', async () => ({ pid: process.pid, ioredis: IOREDIS_MAJOR }))
  app.get('/poll', { config: { name: 'poll' } }, async () => ({ poll: true }))
  app.get('/quiet', { config: { sessionSecurity: { passive: true } } }, async () => ({ quiet: true }))
  app.get('/api/status', async () => ({ status: 'up' }))
  app.get('/feed/:id', async () => ({ feed: true }))
  routes?.(app)
  await app.ready()
  return app
}

/**
 * A private Redis and the application under test on it, both closed when the test ends. The
 * options may be a function of the Redis client, for a store or a check that needs it.
 */
export async function startApp (
  t: Teardown,
  options: Omit<TestAppOptions, 'client'> | ((redis: Redis) => Omit<TestAppOptions, 'client'>) = {}
): Promise<{ server: RedisServer, redis: Redis, app: FastifyInstance }> {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const redis = server.client()
  const app = await buildApp({ ...(typeof options === 'function' ? options(redis) : options), client: redis })
  t.teardown(() => app.close())
  return { server, redis, app }
}

/** A gate that `/slow?gate=name` (and `/slow-passive`) of the application waits on. */
export function gate (app: FastifyInstance, name: string): Gate {
  let enter!: () => void
  let release!: () => void
  const entered = new Promise<void>(resolve => { enter = resolve })
  const wait = new Promise<void>(resolve => { release = resolve })
  harness.get(app)?.gates.set(name, { enter, wait })
  return { entered, release }
}

/**
 * Resolves when the application's requests so far have finished their onResponse hooks, which
 * run after inject() has resolved (a test's own hooks may still be at work there).
 */
export async function settled (app: FastifyInstance): Promise<void> {
  await harness.get(app)?.settled()
}

/** The `name=value` of the session cookie that a response sets, or undefined. */
export function sessionCookie (response: LightMyRequestResponse | Response): string | undefined {
  if (response instanceof Response) {
    const header = response.headers.getSetCookie().find(c => c.startsWith('sessionId='))
    return header?.split(';', 1)[0]
  }
  const cookie = response.cookies.find(c => c.name === 'sessionId')
  return cookie === undefined ? undefined : `sessionId=${cookie.value}`
}

/** The store key of the session that a `sessionId=...` cookie names. */
export function sessionKey (cookie: string): string {
  const signed = decodeURIComponent(cookie.slice('sessionId='.length))
  return PREFIX + signed.slice(0, signed.lastIndexOf('.'))
}

/** Signs in (alice, role user, unless told), and waits until the sign-in request has finished all its hooks. */
export async function login (app: FastifyInstance, who: { user?: string, role?: string } = {}): Promise<string> {
  const query = new URLSearchParams(who as Record<string, string>).toString()
  const cookie = sessionCookie(await app.inject({ url: query === '' ? '/login' : `/login?${query}` }))
  if (cookie === undefined) throw new Error('login set no cookie')
  await settled(app)
  return cookie
}

/** The stored session, as the store keeps it, or null. */
export async function readSession (client: Client, cookie: string): Promise<Record<string, unknown> | null> {
  const raw = await client.get(sessionKey(cookie))
  return raw === null ? null : JSON.parse(raw)
}

/** The stored last activity, as stored (an ISO string when valid). */
export async function readActivity (client: Client, cookie: string): Promise<unknown> {
  return (await readSession(client, cookie))?._session_security
}

/**
 * Rewrites the stored last activity (as another instance would), keeping the key's TTL and the
 * store's field order (activity first). `value` is stored as given: `secondsAgo(n)` for a valid one.
 */
export async function writeActivity (client: Client, cookie: string, value: unknown): Promise<void> {
  const key = sessionKey(cookie)
  const session = JSON.parse(await client.get(key) as string)
  session._session_security = value
  await client.set(key, sessionSerializer.stringify(session), 'KEEPTTL')
}

/**
 * The ISO string of `seconds` ago. Tests that expect n whole seconds of idle write n.5: the plugin
 * counts on Redis's clock, whose offset it knows to within half a round trip, so a value written
 * exactly n seconds ago can read as n - 1 on a loaded machine.
 */
export function secondsAgo (seconds: number): string {
  return new Date(Date.now() - seconds * 1000).toISOString()
}
