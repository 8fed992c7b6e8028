// Options are checked at registration: app.ready() rejects with a typed error, never later and
// never silently (README "Options", "Error codes").
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import Fastify from 'fastify'
import { test } from 'tap'
import sessionSecurity, { type SessionSecurityOptions } from '../index.js'
import { buildSettings, checkOptions, warnAfterFor } from '../lib/options.js'

const SECRET = 'an-options-test-secret-of-32-chars-or-more'

async function ready (options: unknown, session: Record<string, unknown> = {}) {
  const app = Fastify()
  await app.register(fastifyCookie)
  await app.register(fastifySession, { secret: SECRET, cookie: { secure: 'auto' }, ...session })
  app.register(sessionSecurity, options as SessionSecurityOptions)
  try {
    await app.ready()
  } finally {
    await app.close()
  }
}

test('bad options reject app.ready() with a typed error', async t => {
  const cases: Array<[string, unknown, string]> = [
    ['warnAfter >= expireAfter', { warnAfter: 600, expireAfter: 600 }, 'FST_SESSION_SECURITY_WARN_AFTER_NOT_BELOW_EXPIRE'],
    ['warnAfter over the default expireAfter', { warnAfter: 700 }, 'FST_SESSION_SECURITY_WARN_AFTER_NOT_BELOW_EXPIRE'],
    ['negative expireAfter', { expireAfter: -1 }, 'FST_SESSION_SECURITY_INVALID_OPTION'],
    ['zero expireAfter', { expireAfter: 0 }, 'FST_SESSION_SECURITY_INVALID_OPTION'],
    ['string expireAfter', { expireAfter: '600' }, 'FST_SESSION_SECURITY_INVALID_OPTION'],
    ['infinite expireAfter', { expireAfter: Infinity }, 'FST_SESSION_SECURITY_INVALID_OPTION'],
    ['NaN warnAfter', { warnAfter: Number.NaN }, 'FST_SESSION_SECURITY_INVALID_OPTION'],
    ['negative warnAfter', { warnAfter: -5 }, 'FST_SESSION_SECURITY_INVALID_OPTION'],
    ['warnAfter as a function', { warnAfter: () => 5 }, 'FST_SESSION_SECURITY_INVALID_OPTION'],
    ['passiveUrls not an array', { passiveUrls: '/x' }, 'FST_SESSION_SECURITY_INVALID_OPTION'],
    ['passiveUrls entry neither string nor RegExp', { passiveUrls: ['/x', 42] }, 'FST_SESSION_SECURITY_INVALID_OPTION'],
    ['passiveUrlNames not an array', { passiveUrlNames: 'poll' }, 'FST_SESSION_SECURITY_INVALID_OPTION'],
    ['passiveUrlNames entry not a string', { passiveUrlNames: [/poll/] }, 'FST_SESSION_SECURITY_INVALID_OPTION'],
    ['isAuthenticated not a function', { isAuthenticated: true }, 'FST_SESSION_SECURITY_INVALID_OPTION'],
    ['logout not a function', { logout: '/logout' }, 'FST_SESSION_SECURITY_INVALID_OPTION'],
    ['onExpire not a function', { onExpire: {} }, 'FST_SESSION_SECURITY_INVALID_OPTION'],
    ['routePrefix with a trailing slash', { routePrefix: '/ss/' }, 'FST_SESSION_SECURITY_INVALID_OPTION'],
    ['routePrefix without a slash', { routePrefix: 'ss' }, 'FST_SESSION_SECURITY_INVALID_OPTION'],
    ['routePrefix not a string', { routePrefix: 1 }, 'FST_SESSION_SECURITY_INVALID_OPTION'],
    ['returnToUrl javascript:', { returnToUrl: 'javascript:alert(1)' }, 'FST_SESSION_SECURITY_INVALID_OPTION'],
    ['returnToUrl scheme-relative', { returnToUrl: '//evil.example/' }, 'FST_SESSION_SECURITY_INVALID_OPTION'],
    ['returnToUrl backslash', { returnToUrl: '/\\evil.example/' }, 'FST_SESSION_SECURITY_INVALID_OPTION'],
    ['returnToUrl empty', { returnToUrl: '' }, 'FST_SESSION_SECURITY_INVALID_OPTION'],
    ['returnToUrl with a tab that browsers drop', { returnToUrl: '/\t/evil.example/' }, 'FST_SESSION_SECURITY_INVALID_OPTION'],
    ['returnToUrl with a newline', { returnToUrl: '/\n/evil.example/' }, 'FST_SESSION_SECURITY_INVALID_OPTION'],
    ['returnToUrl with a backslash inside', { returnToUrl: '/a/..\\/evil' }, 'FST_SESSION_SECURITY_INVALID_OPTION'],
    ['returnToUrl with a space', { returnToUrl: '/ /evil.example/' }, 'FST_SESSION_SECURITY_INVALID_OPTION'],
    ['returnToUrl http without a host', { returnToUrl: 'https:///path' }, 'FST_SESSION_SECURITY_INVALID_OPTION'],
    ['returnToUrl not a string', { returnToUrl: 5 }, 'FST_SESSION_SECURITY_INVALID_OPTION'],
    ['negative activityResolution', { activityResolution: -1 }, 'FST_SESSION_SECURITY_INVALID_OPTION'],
    ['string activityResolution', { activityResolution: '1' }, 'FST_SESSION_SECURITY_INVALID_OPTION'],
    ['insecure not a boolean', { insecure: 'yes' }, 'FST_SESSION_SECURITY_INVALID_OPTION'],
    ['a misspelt option', { expireAftr: 60 }, 'FST_SESSION_SECURITY_INVALID_OPTION'],
    ['prefix instead of routePrefix', { prefix: '/ss' }, 'FST_SESSION_SECURITY_INVALID_OPTION']
  ]
  for (const [name, options, code] of cases) {
    await t.rejects(ready(options), { code }, name)
  }
  const error = await ready({ expireAfter: -1 }).catch(err => err)
  t.type(error, TypeError, 'option errors are TypeErrors')
  t.match(error.message, /expireAfter.*-1/, 'the message names the option and the value')
})

test('good options are accepted', async t => {
  await t.resolves(ready({}))
  await t.resolves(ready({
    warnAfter: 50,
    expireAfter: 60,
    passiveUrls: ['/a', /^\/b/],
    passiveUrlNames: ['c'],
    isAuthenticated: () => true,
    logout: () => {},
    onExpire: () => {},
    routePrefix: '/security/session',
    returnToUrl: '/login?next=%2F',
    activityResolution: 0,
    insecure: false,
    logLevel: 'warn'
  }))
  await t.resolves(ready({ expireAfter: () => 30, warnAfter: 20 }), 'a function expireAfter is checked per request')
  await t.resolves(ready({ returnToUrl: 'https://sso.example.com/login' }))
})

test('the caller\'s options object is not changed, and settings are frozen', async t => {
  const options: SessionSecurityOptions = { expireAfter: 60, passiveUrls: ['/x'] }
  const copy = structuredClone(options)
  await ready(options)
  t.same(options, copy)
  checkOptions(options)
  const settings = buildSettings(options)
  t.ok(Object.isFrozen(settings))
  t.equal(warnAfterFor(settings, 60), 40, 'warnAfter defaults to a lead of 20 s before expireAfter (60 s: 40 s)')
  t.equal(warnAfterFor(buildSettings({}), 600), 540)
  t.equal(warnAfterFor(buildSettings({ warnAfter: 10 }), 600), 10)
})

test('a missing or late-registered session plugin fails with Fastify\'s own error', async t => {
  const noSession = Fastify()
  await noSession.register(fastifyCookie)
  noSession.register(sessionSecurity)
  await t.rejects(async () => { await noSession.ready() }, { code: 'FST_ERR_PLUGIN_DEPENDENCY_NOT_REGISTERED', message: /@fastify\/session/ })

  const late = Fastify()
  await late.register(fastifyCookie)
  late.register(sessionSecurity)
  late.register(fastifySession, { secret: SECRET })
  await t.rejects(async () => { await late.ready() }, { code: 'FST_ERR_PLUGIN_DEPENDENCY_NOT_REGISTERED' })
})

test('a persistent session cookie is refused unless insecure: true', async t => {
  await t.rejects(ready({}, { cookie: { secure: 'auto', maxAge: 86_400_000 } }), { code: 'FST_SESSION_SECURITY_PERSISTENT_COOKIE' })
  await t.rejects(ready({}, { cookie: { secure: 'auto', expires: new Date(Date.now() + 86_400_000) } }), { code: 'FST_SESSION_SECURITY_PERSISTENT_COOKIE' })
  await t.resolves(ready({ insecure: true }, { cookie: { secure: 'auto', maxAge: 86_400_000 } }))
})

test('a persistent cookie that only shows on requests is refused there', async t => {
  // A custom idGenerator that needs a real request defeats the registration-time probe.
  const app = Fastify()
  await app.register(fastifyCookie)
  await app.register(fastifySession, {
    secret: SECRET,
    saveUninitialized: false,
    cookie: { secure: 'auto', maxAge: 60_000 },
    idGenerator: (request) => `${(request as { raw: { url: string } }).raw.url.length}-${Math.random().toString(36).slice(2)}`
  })
  await app.register(sessionSecurity)
  app.get('/login', async (request) => { request.session.set('user', { id: 1, name: 'u' }); return 'ok' })
  await app.ready()
  t.teardown(() => app.close())
  const login = await app.inject({ url: '/login' })
  const cookie = login.cookies.find(c => c.name === 'sessionId')
  const response = await app.inject({ url: '/login', cookies: { sessionId: cookie!.value } })
  t.equal(response.statusCode, 500)
  t.equal(response.json().code, 'FST_SESSION_SECURITY_PERSISTENT_COOKIE')
})
