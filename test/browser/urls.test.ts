// The client pings only its own origin and leaves only for an http(s) address: a pingUrl on
// another origin or a returnToUrl with another scheme (javascript:, data:) makes start() throw a
// TypeError, whether the page calls it or the script tag's data-* attributes do, and nothing is
// ever sent to the other origin.
import { test } from 'tap'
import { launchBrowser, newContext, sleep } from '../helpers/browser.js'
import { startClientApps } from '../helpers/client-app.js'

const OTHER_ORIGIN_PING = 'http://127.0.0.2:9/session_security/ping/'

test('pingUrl and returnToUrl', async t => {
  const browser = await launchBrowser()
  t.teardown(() => browser.close())
  const [app] = await startClientApps(t, [{ warnAfter: 2, expireAfter: 5 }])

  t.test('start() accepts its own origin and http(s), and refuses others with a TypeError', async t => {
    const { context } = await newContext(t, browser)
    await context.request.get(`${app.url}/login`)
    const page = await context.newPage()
    await page.goto(`${app.url}/page`)
    const cases: Array<[string, Record<string, string>, string]> = [
      ['a relative pingUrl', { pingUrl: '/session_security/ping/' }, 'started'],
      ['an absolute pingUrl on this origin', { pingUrl: `${app.url}/session_security/ping/` }, 'started'],
      ['a relative returnToUrl', { pingUrl: '/session_security/ping/', returnToUrl: '/bye' }, 'started'],
      ['an https returnToUrl on another site', { pingUrl: '/session_security/ping/', returnToUrl: 'https://example.com/' }, 'started'],
      ['a pingUrl on another origin', { pingUrl: OTHER_ORIGIN_PING }, 'TypeError'],
      ['a protocol-relative pingUrl on another host', { pingUrl: '//127.0.0.2/ping/' }, 'TypeError'],
      ['a javascript: pingUrl', { pingUrl: 'javascript:void 0' }, 'TypeError'],
      ['a javascript: returnToUrl', { pingUrl: '/session_security/ping/', returnToUrl: 'javascript:alert(1)' }, 'TypeError'],
      ['a data: returnToUrl', { pingUrl: '/session_security/ping/', returnToUrl: 'data:text/html,hi' }, 'TypeError']
    ]
    for (const [name, urls, expected] of cases) {
      const outcome = await page.evaluate(urls => {
        const client = (window as unknown as { SessionSecurity: { start: (options: object) => void, stop: () => void } }).SessionSecurity
        try {
          client.start({ ...urls, warnAfter: 60, expireAfter: 120 })
          client.stop()
          return 'started'
        } catch (err) {
          return (err as Error).name
        }
      }, urls)
      t.equal(outcome, expected, name)
    }
  })

  t.test('a script tag whose data-ping-url names another origin never pings it', async t => {
    const { context } = await newContext(t, browser)
    const page = await context.newPage()
    const errors: string[] = []
    page.on('pageerror', error => errors.push(error.name))
    const foreign: string[] = []
    page.on('request', request => { if (!request.url().startsWith(app.url)) foreign.push(request.url()) })
    await page.route(`${app.url}/stray-tag`, route => route.fulfill({
      contentType: 'text/html',
      body: '<!doctype html><p>page</p><script src="/session_security/static/session-security.js" defer ' +
        `data-ping-url="${OTHER_ORIGIN_PING}" data-warn-after="1" data-expire-after="2" data-idle-for="0"></script>`
    }))
    await page.goto(`${app.url}/stray-tag`, { waitUntil: 'commit' })
    await sleep(2500)
    t.same(foreign, [], 'no request to another origin')
    t.same(errors, ['TypeError'], 'start() refused with a TypeError')
  })
})
