// The plugin's own routes and edges of the hook: static assets, requests outside the session
// cookie's path, and a store that fails while logging out.
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import { RedisStore } from 'connect-redis'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { test } from 'tap'
import sessionSecurity from '../index.js'
import { startRedis } from './helpers/redis.js'
import { SECRET, buildApp, login, readActivity, secondsAgo, sessionCookie, sessionKey, startApp, writeActivity } from './helpers/app.js'

test('static assets', async t => {
  const { redis, app } = await startApp(t, { plugin: { routePrefix: '/ss' } })

  for (const [file, type] of [['session-security.js', /javascript/], ['session-security.css', /text\/css/]] as const) {
    const plain = await app.inject({ url: `/ss/static/${file}` })
    t.equal(plain.statusCode, 200, file)
    t.match(plain.headers['content-type'], type)
    t.equal(plain.headers['cache-control'], 'public, max-age=0, must-revalidate', 'unversioned: revalidate')
    t.ok(plain.headers.etag, 'with an ETag to revalidate against')
    const versioned = await app.inject({ url: `/ss/static/${file}?v=1.2.3` })
    t.equal(versioned.headers['cache-control'], 'public, max-age=31536000, immutable', 'versioned: kept')
    const revalidated = await app.inject({ url: `/ss/static/${file}`, headers: { 'if-none-match': String(plain.headers.etag) } })
    t.equal(revalidated.statusCode, 304)
  }
  t.equal((await app.inject({ url: '/ss/static/../package.json' })).statusCode, 404, 'nothing outside public/')
  t.equal((await app.inject({ url: '/ss/static/nope.js' })).statusCode, 404)
  t.equal((await app.inject({ url: '/session_security/ping/' })).statusCode, 404, 'routePrefix moves the ping')
  t.equal((await app.inject({ url: '/ss/ping/' })).body, '"logout"')

  const cookie = await login(app)
  await app.inject({ url: '/page', headers: { cookie } })
  await writeActivity(redis, cookie, secondsAgo(3.5))
  const before = await readActivity(redis, cookie)
  await app.inject({ url: '/ss/static/session-security.js', headers: { cookie } })
  t.equal(await readActivity(redis, cookie), before, 'assets are passive')
  t.notOk(app.hasReplyDecorator('sendFile'), '@fastify/static stays encapsulated')
})

test('requests outside the session cookie path are left alone', async t => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const app = Fastify()
  await app.register(fastifyCookie)
  await app.register(fastifySession, {
    secret: SECRET,
    store: new RedisStore({ client: server.client() }),
    saveUninitialized: false,
    cookie: { secure: 'auto', path: '/app' }
  })
  await app.register(sessionSecurity, { isAuthenticated: () => true })
  app.get('/elsewhere', async (request) => ({ session: request.session }))
  t.teardown(() => app.close())
  const response = await app.inject({ url: '/elsewhere' })
  t.equal(response.statusCode, 200)
  t.same(response.json(), { session: {} })
})

test('a store that fails to delete the session: a clear 500, and the session stays', async t => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const admin = server.client()
  // A real Redis user that may do everything but DEL: logout's delete fails, reads work.
  await admin.acl('SETUSER', 'nodel', 'on', '>pw', '~*', '&*', '+@all', '-del', '-unlink')
  const limited = new Redis({ port: server.port, host: '127.0.0.1', username: 'nodel', password: 'pw' })
  t.teardown(() => limited.disconnect())
  const app = await buildApp({ client: limited, plugin: { expireAfter: 10 } })
  t.teardown(() => app.close())
  const cookie = await login(app)
  await app.inject({ url: '/page', headers: { cookie } })
  await writeActivity(admin, cookie, secondsAgo(30.5))
  const response = await app.inject({ url: '/page', headers: { cookie } })
  t.equal(response.statusCode, 500)
  t.match(response.json().message, /NOPERM|permission/i)
  t.equal(sessionCookie(response), undefined, 'no new session cookie')
  t.equal(await admin.exists(sessionKey(cookie)), 1, 'nothing half-done: the session is still there')
  const again = await app.inject({ url: '/page', headers: { cookie } })
  t.equal(again.statusCode, 500, 'still refused, never served as logged in')
})
