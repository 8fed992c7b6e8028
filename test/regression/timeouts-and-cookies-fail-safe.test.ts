// Smaller guarantees: the default warning leaves at least 20 s to react where the timeout allows;
// a cross-site session cookie is refused; a session saved at sign-in and never used again leaves
// Redis within its own idle timeout, even when expireAfter is a function, and two applications
// that share one store instance keep their own TTLs; the sign-in answer leaves once they are written.
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import Fastify from 'fastify'
import { test } from 'tap'
import sessionSecurity from '../../index.js'
import { defaultWarnAfter } from '../../lib/options.js'
import { SessionSecurityStore } from '../../lib/store.js'
import { SECRET, buildApp, login, readSession, sessionCookie, sessionKey } from '../helpers/app.js'
import { startRedis } from '../helpers/redis.js'

test('the default warnAfter: a lead of 10%, at least 20 s where the timeout allows, never below 1', async t => {
  for (const [expireAfter, warnAfter] of [[600, 540], [60, 40], [40, 20], [10, 5], [2, 1], [3600, 3240]]) {
    t.equal(defaultWarnAfter(expireAfter), warnAfter, `${expireAfter} s -> ${warnAfter} s`)
  }
  const app = Fastify()
  await app.register(fastifyCookie)
  await app.register(fastifySession, { secret: SECRET, cookie: { secure: 'auto' } })
  app.register(sessionSecurity, { expireAfter: 1 })
  await t.rejects(async () => { await app.ready() }, { code: 'FST_SESSION_SECURITY_WARN_AFTER_NOT_BELOW_EXPIRE' }, 'no whole second is left to warn in')
})

test('a sameSite "none" session cookie is refused unless insecure: true', async t => {
  for (const sameSite of ['none', 'None'] as const) {
    const app = Fastify()
    await app.register(fastifyCookie)
    await app.register(fastifySession, { secret: SECRET, cookie: { secure: true, sameSite: sameSite as 'none' } })
    app.register(sessionSecurity, {})
    await t.rejects(async () => { await app.ready() }, { code: 'FST_SESSION_SECURITY_CROSS_SITE_COOKIE' }, `sameSite ${sameSite}`)
  }
  const app = Fastify()
  await app.register(fastifyCookie)
  await app.register(fastifySession, { secret: SECRET, cookie: { secure: true, sameSite: 'none' } })
  await app.register(sessionSecurity, { insecure: true })
  await t.resolves(async () => { await app.ready() }, 'insecure: true allows it')
  await app.close()
})

test('a session saved at sign-in and never used again leaves Redis within its idle timeout', async t => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const redis = server.client()
  // One store instance shared by two applications with different idle timeouts.
  const store = new SessionSecurityStore({ client: redis, prefix: 'sess:' })
  const short = await buildApp({ client: redis, store, plugin: { warnAfter: 5, expireAfter: () => 30 } })
  const long = await buildApp({ client: redis, store, plugin: { warnAfter: 5, expireAfter: 3000 } })
  t.teardown(() => short.close())
  t.teardown(() => long.close())
  const a = await login(short)
  const b = await login(long)
  const c = await login(short)
  const ttl = async (cookie: string): Promise<number> => redis.ttl(sessionKey(cookie))
  t.ok(await ttl(a) > 25 && await ttl(a) <= 35, `expireAfter function: ${await ttl(a)} s, not a day`)
  t.ok(await ttl(b) > 2990 && await ttl(b) <= 3005, `the other application keeps its own: ${await ttl(b)} s`)
  t.ok(await ttl(c) > 25 && await ttl(c) <= 35, `and the first keeps its own after it: ${await ttl(c)} s`)
})

test('the sign-in response leaves after its first activity and idle TTL are written', async t => {
  // A browser sends its next request as soon as the sign-in's answer arrives; that request, on
  // any instance, must find the session in its final form.
  const server = await startRedis()
  t.teardown(() => server.stop())
  const redis = server.client()
  const app = await buildApp({ client: redis, store: 'security', plugin: { warnAfter: 5, expireAfter: 30 } })
  t.teardown(() => app.close())
  const cookie = sessionCookie(await app.inject({ url: '/login' }))
  if (cookie === undefined) throw new Error('login set no cookie')
  const stored = await readSession(redis, cookie)
  t.type(stored?._session_security, 'string', 'the first activity is stored when the answer arrives')
  t.type(stored?._session_security_since, 'number', 'and the sign-in instant')
  const ttl = await redis.ttl(sessionKey(cookie))
  t.ok(ttl > 25 && ttl <= 35, `and the idle TTL: ${ttl} s`)
})
