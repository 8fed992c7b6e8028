// A stored last activity in the future (a server with a fast clock wrote it, with a store that is
// not SessionSecurityStore; or any outside write) counts as now and is rewritten. Only requests
// that counted as activity rewrote it: while only passive requests (a poller) or requests that
// are not the user's (another site's, subresources) came, the session was found 0 s idle on each
// and never expired.
import { RedisStore } from 'connect-redis'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'tap'
import type { Redis } from 'ioredis'
import { SessionSecurityStore } from '../../lib/store.js'
import { login, startApp, writeActivity } from '../helpers/app.js'

const stores = {
  SessionSecurityStore: (redis: Redis) => new SessionSecurityStore({ client: redis, prefix: 'sess:' }),
  'connect-redis': (redis: Redis) => new RedisStore({ client: redis, prefix: 'sess:' })
}

for (const [name, store] of Object.entries(stores)) {
  test(`${name}: a future activity seen only by requests that are not activity still ends`, async t => {
    const { app, redis } = await startApp(t, redis => ({ store: store(redis), plugin: { warnAfter: 1, expireAfter: 2 } }))
    const requests: Array<[string, Record<string, string>]> = [
      ['/quiet', {}],
      ['/page', { 'sec-fetch-site': 'cross-site', 'sec-fetch-dest': 'image' }],
      ['/page', { 'sec-fetch-site': 'same-origin', 'sec-fetch-dest': 'image' }]
    ]
    const cookies: string[] = []
    for (const [url, headers] of requests) {
      const cookie = await login(app)
      await app.inject({ url: '/page', headers: { cookie } })
      await writeActivity(redis, cookie, new Date(Date.now() + 3_600_000).toISOString())
      t.equal((await app.inject({ url, headers: { cookie, ...headers } })).statusCode, 200, `${url} ${JSON.stringify(headers)}`)
      cookies.push(cookie)
    }
    await sleep(1200)
    for (const [i, [url, headers]] of requests.entries()) {
      await app.inject({ url, headers: { cookie: cookies[i], ...headers } })
    }
    await sleep(1000)
    for (const [i, [url, headers]] of requests.entries()) {
      const response = await app.inject({ url: '/page', headers: { cookie: cookies[i] } })
      t.equal(response.statusCode, 401, `only ${url} ${JSON.stringify(headers)} for 2.2 s: idle, signed out`)
      t.equal(response.headers['session-expired'], 'idle')
    }
  })
}
