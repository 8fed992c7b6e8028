// A request that writes to the session while the user signs out (another tab), while the user
// signs in again (regenerate), or while the plugin expires the session, must never bring the old
// session back: with SessionSecurityStore the old cookie stays signed out every time. The same
// races against plain connect-redis are run and counted, as what a plain store gives up.
import { RedisStore } from 'connect-redis'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { test } from 'tap'
import { SessionSecurityStore } from '../../lib/store.js'
import { login, sessionKey, startApp, writeActivity } from '../helpers/app.js'
import type { Redis } from 'ioredis'

const TRIES = 100
const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/** Holds `/slow-write?gate=1` after it loaded its session, until the test releases it. */
let gate: { entered: () => void, released: Promise<void> } | undefined

function routes (app: FastifyInstance): void {
  app.get('/gated-write', async (request: FastifyRequest) => {
    const held = gate
    held?.entered()
    await held?.released
    request.session.set('cart', 'book')
    return { ok: true }
  })
  // An application write that takes 5 ms (a database call; `?ms=` for longer) before it sets a session key.
  app.get('/slow-write', async (request: FastifyRequest) => {
    await sleep(Number((request.query as { ms?: string }).ms ?? 5))
    request.session.set('cart', 'book')
    return { ok: true }
  })
  app.post('/logout', async request => {
    await request.session.destroy()
    return { ok: true }
  })
  app.post('/reauth', async request => {
    await request.session.regenerate(['user'])
    return { ok: true }
  })
}

async function signedIn (app: FastifyInstance, cookie: string): Promise<boolean> {
  return (await app.inject({ url: '/page', headers: { cookie } })).statusCode === 200
}

/** Runs `race` TRIES times on a fresh sign-in; returns how often the old cookie was signed in afterwards. */
async function resurrections (app: FastifyInstance, race: (cookie: string) => Promise<unknown>): Promise<number> {
  let count = 0
  for (let i = 0; i < TRIES; i++) {
    const cookie = await login(app)
    await app.inject({ url: '/page', headers: { cookie } })
    await race(cookie)
    if (await signedIn(app, cookie)) count++
  }
  return count
}

const stores = {
  security: (redis: Redis) => new SessionSecurityStore({ client: redis, prefix: 'sess:' }),
  plain: (redis: Redis) => new RedisStore({ client: redis, prefix: 'sess:' })
}

for (const [name, makeStore] of Object.entries(stores)) {
  test(`${name} store: writes racing a sign-out, a re-authentication and an expiry`, async t => {
    const expired: string[] = []
    const { app, redis } = await startApp(t, redis => ({
      store: makeStore(redis),
      plugin: { expireAfter: 10, onExpire: (_request, info) => { expired.push(info.sessionId) } },
      routes
    }))

    const together = await resurrections(app, cookie => Promise.all([
      app.inject({ url: '/slow-write', headers: { cookie } }),
      app.inject({ method: 'POST', url: '/logout', headers: { cookie } })
    ]))
    const slowWrite = await resurrections(app, async cookie => {
      const write = app.inject({ url: '/slow-write', headers: { cookie } })
      await sleep(1)
      await app.inject({ method: 'POST', url: '/logout', headers: { cookie } })
      await write
    })
    const regenerate = await resurrections(app, async cookie => {
      const write = app.inject({ url: '/slow-write', headers: { cookie } })
      await sleep(1)
      await app.inject({ method: 'POST', url: '/reauth', headers: { cookie } })
      await write
    })
    expired.length = 0
    const expiry = await resurrections(app, async cookie => {
      // The slow write loads the session while it is still active; the expiry comes meanwhile.
      let release!: () => void
      const entered = new Promise<void>(resolve => {
        gate = { entered: resolve, released: new Promise(resolve => { release = resolve }) }
      })
      const write = app.inject({ url: '/gated-write', headers: { cookie } })
      await entered
      await writeActivity(redis, cookie, new Date(Date.now() - 11_000).toISOString())
      await app.inject({ url: '/page', headers: { cookie } })
      release()
      await write
    })

    const counts = `write and sign-out together ${together}/${TRIES}, 5 ms write ${slowWrite}/${TRIES}, regenerate ${regenerate}/${TRIES}, expiry ${expiry}/${TRIES}`
    if (name === 'security') {
      t.equal(together + slowWrite + regenerate + expiry, 0, `no old cookie signed in again: ${counts}`)
      t.equal(expired.length, TRIES, 'onExpire once per expired session')
      t.equal(new Set(expired).size, TRIES)
    } else {
      // What plain stores give up: recorded, not asserted (the README cites these runs).
      t.comment(`plain connect-redis: ${counts}`)
      t.pass('counted')
    }
  })
}

test('the tombstone leaves a short marker, not the session, under the old key', async t => {
  const { app, redis } = await startApp(t, redis => ({ store: stores.security(redis), routes }))
  const cookie = await login(app)
  await app.inject({ method: 'POST', url: '/logout', headers: { cookie } })
  const marker = await redis.get(sessionKey(cookie))
  t.ok(marker !== null && Buffer.byteLength(marker) <= 64, `marker ${marker}`)
  t.notMatch(marker, /alice/, 'no user data left')
  const ttl = await redis.ttl(sessionKey(cookie))
  t.ok(ttl > 0 && ttl <= 600, `the marker expires (${ttl} s)`)
})
