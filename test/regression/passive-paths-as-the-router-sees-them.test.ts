// Passive paths are matched on the path as the router sees it. The router (find-my-way) decodes
// the path with decodeURI: reserved characters stay encoded, so `/feed/a%2Fb` is the route
// `/feed/:id` with the id `a/b`. The matcher decoded with decodeURIComponent, turned `%2F` into a
// separator, and a passive pattern for that route (`^/feed/[^/]+$`) no longer matched: a poller
// fetching `/feed/${encodeURIComponent(id)}` kept the session alive.
import { test } from 'tap'
import { SessionSecurityStore } from '../../lib/store.js'
import { login, readActivity, secondsAgo, startApp, writeActivity } from '../helpers/app.js'

test('a passive pattern matches the path the router routes, percent-escapes and all', async t => {
  const { app, redis } = await startApp(t, redis => ({
    store: new SessionSecurityStore({ client: redis, prefix: 'sess:' }),
    plugin: { expireAfter: 60, passiveUrls: [/^\/feed\/[^/]+$/, '/api/status'] }
  }))
  const cookie = await login(app)
  await app.inject({ url: '/page', headers: { cookie } })
  const cases: Array<[string, number, boolean]> = [
    ['/feed/a%2Fb', 200, false],
    ['/feed/%61b', 200, false],
    ['/feed/a%252Fb', 200, false],
    ['/api/%73tatus', 200, false],
    ['/api%2Fstatus', 404, true],
    ['/page', 200, true]
  ]
  for (const [url, status, counts] of cases) {
    const old = secondsAgo(5.5)
    await writeActivity(redis, cookie, old)
    const response = await app.inject({ url, headers: { cookie } })
    t.equal(response.statusCode, status, `${url} routed`)
    const moved = await readActivity(redis, cookie) !== old
    t.equal(moved, counts, `${url} ${counts ? 'counts' : 'does not count'} as activity`)
  }
})
