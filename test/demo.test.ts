// The demo is the README's recommended setup: sessions in SessionSecurityStore on an ioredis client
// with the README's fault options, sign-in and sign-out by POST with a CSRF token, a sign-out that
// deletes the session and clears its cookie, prompt 5xx answers when Redis is gone or hangs, and
// the in-memory store when no Redis answers. Each test runs against its own private Redis.
import { readFile } from 'node:fs/promises'
import { createServer, connect, type Socket } from 'node:net'
import { test } from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { Redis } from 'ioredis'
import { buildDemo, SESSION_COOKIE, SESSION_PREFIX } from '../example/app.js'
import { connectRedis } from '../example/redis.js'
import { freePort, startRedis, type RedisServer } from './helpers/redis.js'

const WARN = 20
const EXPIRE = 40
/** How long a request may take while Redis is down or hangs: the client's commandTimeout and then some. */
const PROMPT_MS = 3000

interface Started { app: FastifyInstance, server: RedisServer, client: Redis }

/** A private Redis, the demo's own client on it (or on `url`, e.g. a proxy) and the demo. */
async function start (
  t: { teardown: (fn: () => unknown) => void }, url?: (server: RedisServer) => Promise<string>
): Promise<Started> {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const client = await connectRedis(url === undefined ? server.url : await url(server))
  if (client === undefined) throw new Error('the demo could not reach the test Redis')
  t.teardown(() => client.disconnect())
  const app = await buildDemo({ warnAfter: WARN, expireAfter: EXPIRE, redis: client })
  t.teardown(() => app.close())
  return { app, server, client }
}

function cookieOf (response: LightMyRequestResponse): string | undefined {
  const cookie = response.cookies.find(c => c.name === SESSION_COOKIE)
  return cookie === undefined || cookie.value === '' ? undefined : `${SESSION_COOKIE}=${cookie.value}`
}

function tokenOf (response: LightMyRequestResponse): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(response.body)
  if (match === null) throw new Error(`no CSRF token in ${response.body.slice(0, 200)}`)
  return match[1]
}

/** The Redis key of the session that a cookie names (the cookie holds the id and its signature). */
function keyOf (cookie: string): string {
  const signed = decodeURIComponent(cookie.slice(SESSION_COOKIE.length + 1))
  return SESSION_PREFIX + signed.slice(0, signed.lastIndexOf('.'))
}

function post (app: FastifyInstance, url: string, cookie: string | undefined, fields: Record<string, string>): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie === undefined ? {} : { cookie }) },
    payload: new URLSearchParams(fields).toString()
  })
}

/** Signs in through the form; the cookie of the signed-in session and the token of its pages. */
async function signIn (app: FastifyInstance, name = 'ann'): Promise<{ cookie: string, token: string }> {
  const form = await app.inject('/login')
  const response = await post(app, '/login', cookieOf(form), { username: name, password: 'demo', _csrf: tokenOf(form) })
  const cookie = cookieOf(response)
  if (response.statusCode !== 303 || response.headers.location !== '/dashboard' || cookie === undefined) {
    throw new Error(`sign-in failed: ${response.statusCode} ${response.body}`)
  }
  const dashboard = await app.inject({ url: '/dashboard', headers: { cookie } })
  return { cookie, token: tokenOf(dashboard) }
}

/** The response, or 'hung' when none came within ms. */
async function within (ms: number, request: Promise<LightMyRequestResponse>): Promise<LightMyRequestResponse | 'hung'> {
  let timer: NodeJS.Timeout | undefined
  const hung = new Promise<'hung'>(resolve => { timer = setTimeout(() => resolve('hung'), ms) })
  try {
    return await Promise.race([request, hung])
  } finally {
    clearTimeout(timer)
  }
}

/** Whether the session that the cookie names still has data of its own in Redis (a tombstone does not count). */
async function sessionData (redis: Redis, cookie: string): Promise<string | null> {
  const raw = await redis.get(keyOf(cookie))
  return raw !== null && raw.includes('"user"') ? raw : null
}

test('sign-out', async t => {
  const { app, server } = await start(t)
  const admin = server.client()

  t.test('is not a GET', async t => {
    const { cookie } = await signIn(app)
    const response = await app.inject({ url: '/logout', headers: { cookie } })
    t.ok([404, 405].includes(response.statusCode), `GET /logout answers ${response.statusCode}`)
    t.ok(await sessionData(admin, cookie), 'the session is still there')
  })

  t.test('without a CSRF token is refused and signs nobody out', async t => {
    const { cookie } = await signIn(app)
    const response = await post(app, '/logout', cookie, {})
    t.equal(response.statusCode, 403)
    const forged = await post(app, '/logout', cookie, { _csrf: 'not-a-token' })
    t.equal(forged.statusCode, 403, 'nor with a made-up token')
    t.ok(await sessionData(admin, cookie), 'the session is still there')
    t.equal((await app.inject({ url: '/dashboard', headers: { cookie } })).statusCode, 200, 'still signed in')
  })

  t.test('with the page\'s token deletes the session and clears the cookie', async t => {
    const { cookie, token } = await signIn(app, 'cleo')
    t.ok(await sessionData(admin, cookie), 'signed in: the session is in Redis')
    const response = await post(app, '/logout', cookie, { _csrf: token })
    t.equal(response.statusCode, 303)
    t.equal(response.headers.location, '/login?bye=1')
    const cleared = response.cookies.find(c => c.name === SESSION_COOKIE)
    t.ok(cleared, 'the response sets the session cookie')
    t.equal(cleared?.value, '', 'to nothing')
    t.ok(cleared?.expires !== undefined && cleared.expires.getTime() <= Date.now(), 'already expired')
    t.equal(cleared?.path, '/', 'on the session cookie\'s path')
    t.equal(await sessionData(admin, cookie), null, 'no session data is left in Redis')
    const left = await admin.keys(`${SESSION_PREFIX}*`)
    for (const key of left) t.notMatch(await admin.get(key) ?? '', /"name":"cleo"/, `${key} holds no data of the user`)
    const after = await app.inject({ url: '/dashboard', headers: { cookie } })
    t.equal(after.statusCode, 302, 'the old cookie no longer signs anyone in')
    t.equal(after.headers.location, '/login')
  })

  t.test('of a session that already ended needs no token', async t => {
    const { cookie } = await signIn(app)
    await admin.del(keyOf(cookie))
    const response = await post(app, '/logout', cookie, {})
    t.equal(response.statusCode, 303)
    t.match(response.headers.location, /^\/login/)
  })
})

test('forms need the CSRF token of their session', async t => {
  const { app, server } = await start(t)
  const admin = server.client()

  t.test('sign-in without a token is refused', async t => {
    const form = await app.inject('/login')
    const cookie = cookieOf(form)
    const response = await post(app, '/login', cookie, { username: 'eve', password: 'demo' })
    t.equal(response.statusCode, 403)
    t.not(response.headers.location, '/dashboard')
    const signedIn = cookieOf(response) ?? cookie
    if (signedIn !== undefined) t.equal(await sessionData(admin, signedIn), null, 'no signed-in session was stored')
    t.match(response.body, /name="_csrf"/, 'the answer is the form again, with a fresh token')
  })

  t.test('sign-in with another visitor\'s token is refused', async t => {
    const theirs = await app.inject('/login')
    const mine = await app.inject('/login')
    const response = await post(app, '/login', cookieOf(mine), { username: 'eve', password: 'demo', _csrf: tokenOf(theirs) })
    t.equal(response.statusCode, 403)
  })

  t.test('saving notes without a token is refused', async t => {
    const { cookie, token } = await signIn(app)
    t.equal((await post(app, '/notes', cookie, { notes: 'forged' })).statusCode, 403)
    t.notMatch(await admin.get(keyOf(cookie)) ?? '', /forged/, 'nothing was saved')
    const saved = await post(app, '/notes', cookie, { notes: 'mine', _csrf: token })
    t.equal(saved.statusCode, 303, 'with the page\'s token it saves')
    t.match(await admin.get(keyOf(cookie)) ?? '', /"notes":"mine"/)
  })
})

test('pages are not kept by caches', async t => {
  const { app } = await start(t)
  const { cookie } = await signIn(app)
  for (const url of ['/login', '/dashboard', '/statements']) {
    const response = await app.inject({ url, headers: url === '/login' ? {} : { cookie } })
    t.equal(response.statusCode, 200, url)
    t.match(response.headers['cache-control'], /no-store/, `${url} is no-store`)
  }
})

test('the page script and stylesheet are files under example/public', async t => {
  const { app } = await start(t)
  const page = await app.inject('/login')
  for (const [name, type] of [['demo.js', /^(text|application)\/javascript/], ['demo.css', /^text\/css/]] as const) {
    t.match(page.body, `/demo-assets/${name}`, `the page links ${name}`)
    const response = await app.inject(`/demo-assets/${name}`)
    t.equal(response.statusCode, 200)
    t.match(response.headers['content-type'], type)
    t.equal(response.body, await readFile(new URL(`../example/public/${name}`, import.meta.url), 'utf8'), `${name} is served from its file`)
  }
})

test('Redis faults give prompt 5xx answers, never a hung request', async t => {
  t.test('Redis stopped', async t => {
    const { app, server, client } = await start(t)
    const { cookie } = await signIn(app)
    await server.kill()
    for (const url of ['/dashboard', '/login', '/session_security/ping/?idleFor=0']) {
      const started = Date.now()
      const response = await within(PROMPT_MS, app.inject({ url, headers: { cookie } }))
      t.not(response, 'hung', `${url} answered within ${PROMPT_MS} ms`)
      if (response === 'hung') continue
      t.ok(response.statusCode >= 500, `${url}: ${response.statusCode} after ${Date.now() - started} ms`)
      t.notMatch(response.body, /Stream isn't writeable|ECONNREFUSED|Connection is closed/, 'the Redis error is not shown to the visitor')
    }

    await server.restart()
    const deadline = Date.now() + 5000
    while (client.status !== 'ready' && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
    t.equal(client.status, 'ready', 'the client reconnects by itself')
    // This Redis keeps nothing across a restart: the session is gone, and signing in works again.
    t.equal((await app.inject({ url: '/dashboard', headers: { cookie } })).statusCode, 302)
    await signIn(app, 'bob')
  })

  t.test('Redis hanging (a network that stops answering)', async t => {
    let proxy: FreezingProxy | undefined
    const { app } = await start(t, async server => {
      proxy = await freezingProxy(server.port)
      return proxy.url
    })
    t.teardown(() => proxy?.close())
    const { cookie } = await signIn(app)
    proxy?.freeze()
    const started = Date.now()
    const response = await within(PROMPT_MS, app.inject({ url: '/dashboard', headers: { cookie } }))
    t.not(response, 'hung', `answered within ${PROMPT_MS} ms`)
    if (response !== 'hung') t.ok(response.statusCode >= 500, `${response.statusCode} after ${Date.now() - started} ms`)
  })
})

test('without Redis', async t => {
  t.test('connectRedis gives up within a couple of seconds when nothing answers', async t => {
    const started = Date.now()
    const client = await connectRedis(`redis://127.0.0.1:${await freePort()}`)
    t.equal(client, undefined)
    t.ok(Date.now() - started < 2500, `gave up after ${Date.now() - started} ms`)
  })

  t.test('the demo runs on the in-memory store', async t => {
    const app = await buildDemo({ warnAfter: WARN, expireAfter: EXPIRE })
    t.teardown(() => app.close())
    const { cookie, token } = await signIn(app)
    t.equal((await app.inject({ url: '/dashboard', headers: { cookie } })).statusCode, 200)
    const out = await post(app, '/logout', cookie, { _csrf: token })
    t.equal(out.statusCode, 303)
    t.equal((await app.inject({ url: '/dashboard', headers: { cookie } })).statusCode, 302, 'signed out')
  })
})

interface FreezingProxy { url: string, freeze (): void, close (): void }

/** A TCP proxy in front of Redis that, once frozen, silently drops everything in both directions. */
async function freezingProxy (port: number): Promise<FreezingProxy> {
  let frozen = false
  const sockets = new Set<Socket>()
  const proxy = createServer(downstream => {
    const upstream = connect(port, '127.0.0.1')
    for (const [from, to] of [[downstream, upstream], [upstream, downstream]]) {
      sockets.add(from)
      from.on('data', chunk => { if (!frozen) to.write(chunk) })
      from.on('error', () => {})
      from.on('close', () => { to.destroy() })
    }
  })
  await new Promise<void>(resolve => proxy.listen(0, '127.0.0.1', resolve))
  const { port: proxyPort } = proxy.address() as { port: number }
  return {
    url: `redis://127.0.0.1:${proxyPort}`,
    freeze () { frozen = true },
    close () {
      for (const socket of sockets) socket.destroy()
      proxy.close()
    }
  }
}
