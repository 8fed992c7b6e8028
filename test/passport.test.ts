// With @fastify/passport (real, not a stand-in): its user is in the session under `passport`, and
// request.user only appears in a preValidation hook, after this plugin's onRequest hook. The
// default isAuthenticated must still see the user, or nobody would ever be logged out.
import fastifyCookie from '@fastify/cookie'
import { Authenticator } from '@fastify/passport'
import fastifySession from '@fastify/session'
import { RedisStore } from 'connect-redis'
import Fastify from 'fastify'
import { test } from 'tap'
import sessionSecurity from '../index.js'
import { startRedis } from './helpers/redis.js'
import { SECRET, readActivity, secondsAgo, sessionCookie, sessionKey, writeActivity } from './helpers/app.js'

test('users logged in through @fastify/passport are tracked and logged out', async t => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const redis = server.client()
  const passport = new Authenticator()
  passport.registerUserSerializer(async (user: { id: string }) => user.id)
  passport.registerUserDeserializer(async (id: string) => ({ id }))

  const app = Fastify()
  await app.register(fastifyCookie)
  await app.register(fastifySession, { secret: SECRET, store: new RedisStore({ client: redis, prefix: 'sess:' }), rolling: false, saveUninitialized: false, cookie: { secure: 'auto' } })
  await app.register(passport.initialize())
  await app.register(passport.secureSession())
  const expired: unknown[] = []
  await app.register(sessionSecurity, { expireAfter: 60, onExpire: (_request, info) => { expired.push(info) } })
  app.get('/login', async (request) => { await request.logIn({ id: 'alice' }); return 'ok' })
  app.get('/page', async (request, reply) => request.user ? { user: request.user } : reply.code(401).send({ error: 'login required' }))
  t.teardown(() => app.close())

  const cookie = sessionCookie(await app.inject({ url: '/login' })) as string
  t.ok(cookie, 'logged in')
  t.same((await app.inject({ url: '/page', headers: { cookie } })).json(), { user: { id: 'alice' } })
  t.type(await readActivity(redis, cookie), 'string', 'activity is tracked for a passport user')

  await writeActivity(redis, cookie, secondsAgo(3600.5))
  const response = await app.inject({ url: '/page', headers: { cookie } })
  t.equal(response.statusCode, 401, 'an hour idle: logged out before passport restores the user')
  t.equal(await redis.exists(sessionKey(cookie)), 0)
  t.equal(expired.length, 1)
})
