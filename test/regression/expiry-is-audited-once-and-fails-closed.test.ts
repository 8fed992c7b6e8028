// An expiry is audited exactly once per session, with the session that ended, however many of its
// requests arrive at once; the functions an application passes (onExpire, isAuthenticated,
// logout, expireAfter) may throw or reject without crashing the process; a logout that does not
// sign the user out fails closed; a session that leaves the store mid-request leaves no user behind.
import { test } from 'tap'
import { SessionSecurityStore } from '../../lib/store.js'
import { login, secondsAgo, sessionKey, startApp, writeActivity } from '../helpers/app.js'
import type { ExpireInfo, SessionSecurityOptions } from '../../index.js'

const unhandled: unknown[] = []
process.on('unhandledRejection', reason => { unhandled.push(reason) })
const tick = (): Promise<void> => new Promise(resolve => setTimeout(resolve, 50))

async function appWith (t: Parameters<typeof startApp>[0], plugin: SessionSecurityOptions) {
  return startApp(t, redis => ({
    store: new SessionSecurityStore({ client: redis, prefix: 'sess:' }),
    plugin: { expireAfter: 10, ...plugin },
    routes: app => {
      app.get('/whoami', async request => ({ user: request.session.get('user') ?? null }))
    }
  }))
}

test('onExpire is called once for 20 concurrent requests of an expired session, with that session', async t => {
  const calls: Array<{ info: ExpireInfo, sessionUser: unknown }> = []
  const { app, redis } = await appWith(t, {
    onExpire: (request, info) => { calls.push({ info, sessionUser: request.session.get('user') }) }
  })
  for (let run = 0; run < 3; run++) {
    calls.length = 0
    const cookie = await login(app)
    await app.inject({ url: '/page', headers: { cookie } })
    const sessionId = sessionKey(cookie).slice('sess:'.length)
    const lastActivity = secondsAgo(11.5)
    await writeActivity(redis, cookie, lastActivity)
    const responses = await Promise.all(Array.from({ length: 20 }, () => app.inject({ url: '/page', headers: { cookie } })))
    // 11 s idle, or more if the machine was slow enough for a second to pass before the hook ran.
    const mostIdle = Math.floor((Date.now() - Date.parse(lastActivity)) / 1000)
    t.ok(responses.every(r => r.statusCode === 401), `run ${run}: all 20 answered as anonymous`)
    t.ok(responses.every(r => r.headers['session-expired'] !== undefined), 'each says the session ended')
    t.equal(calls.length, 1, `run ${run}: onExpire once`)
    t.match(calls[0]?.info, { reason: 'idle', sessionId, session: { user: { name: 'alice' } } },
      'the id and data of the session that ended, captured before the logout')
    const idleFor = calls[0]?.info.idleFor ?? -1
    t.ok(idleFor >= 11 && idleFor <= mostIdle, `idleFor ${idleFor}: from 11 to ${mostIdle}`)
  }
})

test('a throwing or rejecting onExpire is logged; the logout stands and nothing crashes', async t => {
  for (const onExpire of [
    () => { throw new Error('audit down') },
    async () => { throw new Error('audit down') }
  ]) {
    unhandled.length = 0
    const { app, redis } = await appWith(t, { onExpire })
    const logged: string[] = []
    app.log.error = ((obj: unknown, msg?: string) => { logged.push(String(msg ?? obj)) }) as typeof app.log.error
    const cookie = await login(app)
    await app.inject({ url: '/page', headers: { cookie } })
    await writeActivity(redis, cookie, secondsAgo(11.5))
    const response = await app.inject({ url: '/page', headers: { cookie } })
    await tick()
    t.equal(response.statusCode, 401, 'the request goes on as anonymous')
    t.equal((await app.inject({ url: '/page', headers: { cookie } })).statusCode, 401, 'the logout stands')
    t.same(unhandled, [], 'no unhandled rejection')
  }
})

test('isAuthenticated, logout and expireAfter that throw or reject answer 500 and crash nothing', async t => {
  // Each breaks only once the user is signed in and the flag is set, as a database that goes down would.
  let down = false
  const signedIn = (request: import('fastify').FastifyRequest): boolean => request.session.get('user') != null
  const cases: Array<[string, SessionSecurityOptions]> = [
    ['isAuthenticated rejects', { isAuthenticated: async request => { if (down) throw new Error('db down'); return signedIn(request) } }],
    ['isAuthenticated throws', { isAuthenticated: request => { if (down) throw new Error('db down'); return signedIn(request) } }],
    ['logout rejects', { logout: async () => { throw new Error('db down') } }],
    ['expireAfter returns a rejected promise', { warnAfter: 5, expireAfter: (() => down ? Promise.reject(new Error('db down')) : 10) as never }]
  ]
  for (const [name, plugin] of cases) {
    unhandled.length = 0
    down = false
    const { app, redis } = await appWith(t, plugin)
    const cookie = await login(app)
    down = true
    await app.inject({ url: '/page', headers: { cookie } })
    if (await redis.exists(sessionKey(cookie)) === 1) await writeActivity(redis, cookie, secondsAgo(11.5))
    const response = await app.inject({ url: '/page', headers: { cookie } })
    await tick()
    t.equal(response.statusCode, 500, `${name}: 500`)
    t.same(unhandled, [], `${name}: no unhandled rejection`)
  }
})

test('a custom logout that does not sign the user out fails closed', async t => {
  const calls: unknown[] = []
  const { app, redis } = await appWith(t, { logout: () => {}, onExpire: (_r, info) => { calls.push(info.reason) } })
  const cookie = await login(app)
  await app.inject({ url: '/page', headers: { cookie } })
  await writeActivity(redis, cookie, secondsAgo(11.5))
  const response = await app.inject({ url: '/page', headers: { cookie } })
  t.equal(response.statusCode, 500)
  t.equal(response.json().code, 'FST_SESSION_SECURITY_LOGOUT_FAILED')
  const later = await app.inject({ url: '/page', headers: { cookie } })
  t.equal(later.statusCode, 401, 'later requests of that session are anonymous')
  t.same(calls, ['idle'], 'onExpire once')
})

test('a custom logout that destroys the session: the request goes on with a fresh session', async t => {
  const { app, redis } = await appWith(t, { logout: request => request.session.destroy() })
  const cookie = await login(app)
  await app.inject({ url: '/page', headers: { cookie } })
  await writeActivity(redis, cookie, secondsAgo(11.5))
  const response = await app.inject({ url: '/whoami', headers: { cookie } })
  t.equal(response.statusCode, 200, 'no 500: request.session is never null for the handler')
  t.same(response.json(), { user: null })
})

test('a session that leaves the store mid-request: no user, no snippet, no data', async t => {
  let deleteBeforeWrite: string | undefined
  const { app, redis } = await startApp(t, redis => ({
    store: new SessionSecurityStore({ client: redis, prefix: 'sess:' }),
    plugin: {
      expireAfter: 60,
      isAuthenticated: async request => {
        const authenticated = request.session.get('user') != null
        // Signed out in another tab after the session was loaded and before the activity write.
        if (deleteBeforeWrite !== undefined) await redis.del(deleteBeforeWrite)
        deleteBeforeWrite = undefined
        return authenticated
      }
    },
    routes: app => {
      app.get('/dashboard', async request => ({
        user: request.session.get('user') ?? null,
        snippet: app.sessionSecurity.snippet(request)
      }))
    }
  }))
  const cookie = await login(app)
  await app.inject({ url: '/page', headers: { cookie } })
  await writeActivity(redis, cookie, new Date(Date.now() - 5000).toISOString())
  deleteBeforeWrite = sessionKey(cookie)
  const response = await app.inject({ url: '/dashboard', headers: { cookie } })
  t.same(response.json(), { user: null, snippet: '' })
  t.equal(await redis.exists(sessionKey(cookie)), 0, 'not brought back')
})
