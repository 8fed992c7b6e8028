// What the page believes of time and of the server's answers, with nobody at the keyboard:
// - a clock set back (by hand, a time sync, a virtual machine resumed) must not put the last
//   activity in the future: the page would tell the server "idle for -3600 s", which the server
//   counts as activity now, and it would never warn nor leave;
// - a ping answered by anything but a number of seconds or "logout" (null, "", false, [], a
//   numeric string) is a broken answer, not "idle 0 s": the page leaves when its own clock says
//   the time is up.
import { test } from 'tap'
import { launchBrowser, newContext, sleep, PING_PATH } from '../helpers/browser.js'
import { startClientApps } from '../helpers/client-app.js'

const WARN = 2
const EXPIRE = 5

test('clocks and answers', async t => {
  const browser = await launchBrowser()
  t.teardown(() => browser.close())
  const [app] = await startClientApps(t, [{ warnAfter: WARN, expireAfter: EXPIRE }])

  t.test('the clock set back an hour: the page still leaves on time and the session ends', async t => {
    const { context } = await newContext(t, browser)
    await context.addInitScript(() => {
      const realNow = Date.now
      let shift = 0
      Date.now = () => realNow() + shift
      ;(window as unknown as { setClockBack: (ms: number) => void }).setClockBack = ms => { shift -= ms }
    })
    await context.request.get(`${app.url}/login`)
    const page = await context.newPage()
    const sentIdle: string[] = []
    page.on('request', request => {
      const url = new URL(request.url())
      if (url.pathname === PING_PATH) sentIdle.push(url.searchParams.get('idleFor') ?? '')
    })
    const loadedAt = Date.now()
    await page.goto(`${app.url}/page`)
    await sleep(500)
    await page.evaluate(() => (window as unknown as { setClockBack: (ms: number) => void }).setClockBack(3600 * 1000))
    // The idle time between the page's last look at the clock and the jump (a second at most) is lost.
    const left = await page.waitForURL(`${app.url}/bye`, { timeout: (EXPIRE + 4) * 1000, waitUntil: 'commit' }).then(() => Date.now() - loadedAt, () => undefined)
    t.ok(left !== undefined, `the page left (${left} ms after it loaded; expireAfter ${EXPIRE} s)`)
    t.notOk(sentIdle.some(idle => idle.startsWith('-')), `no negative idle time sent (${sentIdle.join(', ')})`)
    t.equal(await app.signedIn(context), false, 'the server session is gone')
  })

  t.test('an endless expireAfter (data-expire-after="Infinity" or "1e999") is refused, not a warning at once', async t => {
    const { context, probe } = await newContext(t, browser)
    await context.request.get(`${app.url}/login`)
    const page = await context.newPage()
    await page.goto(`${app.url}/page`)
    const outcome = await page.evaluate(() => {
      const client = (window as unknown as { SessionSecurity: { start: (options: object) => void, stop: () => void } }).SessionSecurity
      try {
        client.start({ pingUrl: '/session_security/ping/', warnAfter: 60, expireAfter: Infinity })
        return 'started'
      } catch (err) {
        return (err as Error).name
      }
    })
    await sleep(300)
    t.equal(outcome, 'TypeError', 'start() refuses it')
    t.same(probe.events.filter(event => event.type === 'warn'), [], 'no warning')
  })

  for (const answer of ['null', '""', 'false', '[]', '"0"']) {
    t.test(`a ping answered ${answer}: the page leaves on its own clock`, async t => {
      const { context } = await newContext(t, browser)
      await context.request.get(`${app.url}/login`)
      const page = await context.newPage()
      await page.route(url => url.pathname === PING_PATH, route => route.fulfill({ contentType: 'application/json', body: answer }))
      const loadedAt = Date.now()
      await page.goto(`${app.url}/page`)
      const left = await page.waitForURL(`${app.url}/bye`, { timeout: (EXPIRE + 3) * 1000, waitUntil: 'commit' }).then(() => Date.now() - loadedAt, () => undefined)
      t.ok(left !== undefined, `the page left (${left} ms after it loaded; expireAfter ${EXPIRE} s)`)
    })
  }
})
