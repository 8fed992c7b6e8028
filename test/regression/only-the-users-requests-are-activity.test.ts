// What counts as the user's activity: navigations and the page's own fetch/XHR calls from this
// site, never subresources (the favicon that Chromium fetches again after each fragment change,
// which another site's popup can cause), never a passive path written with percent-escapes.
import { test } from 'tap'
import { SessionSecurityStore } from '../../lib/store.js'
import { login, readActivity, secondsAgo, startApp, writeActivity } from '../helpers/app.js'

test('subresources never count as activity; navigations and fetch/XHR do', async t => {
  const { app, redis } = await startApp(t, redis => ({
    store: new SessionSecurityStore({ client: redis, prefix: 'sess:' }),
    plugin: { expireAfter: 60, passiveUrls: ['/api/poll'] },
    routes: app => {
      app.get('/favicon.ico', async () => 'icon')
      app.get('/api/poll', async () => ({ poll: true }))
    }
  }))
  const cookie = await login(app)
  await app.inject({ url: '/page', headers: { cookie } })
  const cases: Array<[string, Record<string, string>, boolean]> = [
    ['/favicon.ico', { 'sec-fetch-site': 'same-origin', 'sec-fetch-dest': 'image', 'sec-fetch-mode': 'no-cors' }, false],
    ['/page', { 'sec-fetch-site': 'same-origin', 'sec-fetch-dest': 'style' }, false],
    ['/page', { 'sec-fetch-site': 'same-origin', 'sec-fetch-dest': 'script' }, false],
    ['/page', { 'sec-fetch-site': 'same-origin', 'sec-fetch-dest': 'font' }, false],
    ['/page', { 'sec-fetch-site': 'cross-site', 'sec-fetch-dest': 'image' }, false],
    ['/page', { 'sec-fetch-site': 'same-origin', 'sec-fetch-dest': 'document', 'sec-fetch-mode': 'navigate' }, true],
    ['/page', { 'sec-fetch-site': 'same-origin', 'sec-fetch-dest': 'empty', 'sec-fetch-mode': 'cors' }, true],
    ['/page', { 'sec-fetch-site': 'cross-site', 'sec-fetch-dest': 'document', 'sec-fetch-user': '?1' }, true],
    ['/page', {}, true],
    ['/api/%70oll', {}, false],
    ['/api/%70%6Fll?x=1', {}, false]
  ]
  for (const [url, headers, counts] of cases) {
    const old = secondsAgo(5.5)
    await writeActivity(redis, cookie, old)
    const response = await app.inject({ url, headers: { cookie, ...headers } })
    t.equal(response.statusCode, 200, `${url} ${JSON.stringify(headers)} answered`)
    const moved = await readActivity(redis, cookie) !== old
    t.equal(moved, counts, `${url} ${JSON.stringify(headers)} ${counts ? 'counts' : 'does not count'} as activity`)
  }
})
