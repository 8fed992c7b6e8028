// A small application under test: @fastify/cookie + @fastify/session (rolling: false,
// saveUninitialized: false, secure: 'auto') over connect-redis + ioredis on a private Redis,
// with the plugin and a few routes.
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import { RedisStore } from 'connect-redis'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import type { Redis } from 'ioredis'
import sessionSecurity, { type SessionSecurityOptions } from '../../index.js'
import { startRedis, type RedisServer } from './redis.js'

export const SECRET = 'a-test-secret-that-is-at-least-32-characters-long'
export const PREFIX = 'sess:'

export interface TestAppOptions {
  redis: Redis
  plugin?: SessionSecurityOptions
  /** Another store in place of connect-redis's RedisStore. */
  store?: unknown
  session?: Record<string, unknown>
  /** More routes, added before the application is ready. */
  routes?: (app: FastifyInstance) => void
  /** Where the application's logs (level info) go; none without it. */
  logger?: NodeJS.WritableStream
}

export async function buildApp ({ redis, plugin = {}, store, session = {}, routes, logger }: TestAppOptions): Promise<FastifyInstance> {
  const app = Fastify(logger === undefined ? {} : { logger: { level: 'info', stream: logger } })
  await app.register(fastifyCookie)
  await app.register(fastifySession, {
    secret: SECRET,
    store: (store ?? new RedisStore({ client: redis, prefix: PREFIX })) as never,
    rolling: false,
    saveUninitialized: false,
    cookie: { secure: 'auto' },
    ...session
  })
  await app.register(sessionSecurity, plugin)

  app.get('/login', async (request) => {
    const { user = 'alice', role = 'user' } = request.query as { user?: string, role?: string }
    request.session.set('user' as never, { name: user, role } as never)
    return { ok: true }
  })
  app.get('/page', async (request, reply) => {
    const user = request.session.get('user' as never) as { name: string } | undefined
    if (!user) return reply.code(401).send({ error: 'login required' })
    return { user: user.name }
  })
  app.get('/cart', async (request) => {
    const { item } = request.query as { item: string }
    request.session.set('cart' as never, item as never)
    return { ok: true }
  })
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
  t: { teardown: (fn: () => unknown) => void },
  options: Omit<TestAppOptions, 'redis'> | ((redis: Redis) => Omit<TestAppOptions, 'redis'>) = {}
): Promise<{ server: RedisServer, redis: Redis, app: FastifyInstance }> {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const redis = server.client()
  const app = await buildApp({ ...(typeof options === 'function' ? options(redis) : options), redis })
  t.teardown(() => app.close())
  return { server, redis, app }
}

/** The `name=value` of the session cookie set by a response, or undefined. */
export function sessionCookie (response: LightMyRequestResponse): string | undefined {
  const cookie = response.cookies.find(c => c.name === 'sessionId')
  return cookie === undefined ? undefined : `sessionId=${cookie.value}`
}

/** The store key of the session that a `sessionId=...` cookie names. */
export function sessionKey (cookie: string): string {
  const signed = decodeURIComponent(cookie.slice('sessionId='.length))
  return PREFIX + signed.slice(0, signed.lastIndexOf('.'))
}

export async function login (app: FastifyInstance, query = ''): Promise<string> {
  const response = await app.inject({ url: `/login${query}` })
  const cookie = sessionCookie(response)
  if (cookie === undefined) throw new Error('login set no cookie')
  return cookie
}

export async function readSession (redis: Redis, cookie: string): Promise<Record<string, unknown> | null> {
  const raw = await redis.get(sessionKey(cookie))
  return raw === null ? null : JSON.parse(raw)
}

export async function readActivity (redis: Redis, cookie: string): Promise<unknown> {
  return (await readSession(redis, cookie))?._session_security
}

/** Rewrites the stored last activity, keeping the key's TTL (what another process would see). */
export async function writeActivity (redis: Redis, cookie: string, value: string | number | null): Promise<void> {
  const key = sessionKey(cookie)
  const session = JSON.parse((await redis.get(key)) as string)
  session._session_security = value
  await redis.set(key, JSON.stringify(session), 'KEEPTTL')
}

/** The ISO string of `seconds` ago. */
export function secondsAgo (seconds: number): string {
  return new Date(Date.now() - seconds * 1000).toISOString()
}
