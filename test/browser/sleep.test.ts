// A laptop that sleeps (README "Browser client" › "What it does"): the page's timers stop (Playwright's clock, paused)
// while real time passes for the server; on waking the page's clock jumps ahead without firing
// timers, and the page comes back to the foreground. It must check at once: past expireAfter it
// leaves without showing the dashboard; between warnAfter and expireAfter it warns at once.
// Headless Chromium keeps every page "visible", so the test sets document.hidden itself and sends
// the visibilitychange event that a real browser would.
import { test } from 'tap'
import type { BrowserContext, Page } from 'playwright-core'
import { login, newContext, sleep, startBrowserAndDemo, startDemo, warningOpen, watchPings } from '../helpers/browser.js'

/**
 * Stops the page's clock 200 ms of page time from now. Read just before the pause: a time read
 * earlier may already be past on a slow machine, and a pause in the past throws.
 */
async function pauseSoon (page: Page, context: BrowserContext): Promise<void> {
  await context.clock.pauseAt(await page.evaluate(() => Date.now()) + 200)
}

const WARN = 2
const EXPIRE = 4

/** Goes to the background (or comes back), as a closed lid and a reopened one would look to the page. */
function setHidden (page: Page, hidden: boolean): Promise<{ bodyVisibility: string, warning: boolean }> {
  return page.evaluate((hidden: boolean) => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden })
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => hidden ? 'hidden' : 'visible' })
    document.dispatchEvent(new Event('visibilitychange'))
    // Read synchronously, before the browser could paint anything after the event.
    return {
      bodyVisibility: getComputedStyle(document.body).visibility,
      warning: (document.getElementById('session_security_warning') as HTMLDialogElement).open
    }
  }, hidden)
}

test('sleep and wake', async t => {
  const { browser, demo } = await startBrowserAndDemo(t, WARN, EXPIRE)

  t.test('asleep past expireAfter: leaves as soon as it is visible, without showing the dashboard', async t => {
    const { context, probe } = await newContext(t, browser)
    await context.clock.install()
    const page = await context.newPage()
    const pings = await watchPings(page)
    await login(page, demo.url)
    const pageTime = await page.evaluate(() => Date.now())
    await setHidden(page, true)
    await pauseSoon(page, context)

    // The lid is closed for longer than expireAfter: no timer runs in the page meanwhile.
    await sleep(EXPIRE * 1000 + 700)
    t.equal(pings.count(), 0, 'no ping while asleep')
    t.equal(page.url(), `${demo.url}/dashboard`, 'still on the dashboard while asleep')
    await context.clock.setSystemTime(pageTime + EXPIRE * 1000 + 800)

    const woke = Date.now()
    const seen = await setHidden(page, false)
    t.same(seen, { bodyVisibility: 'hidden', warning: false }, 'the dashboard is hidden at once, before any answer')
    await page.waitForURL(`${demo.url}/login?expired=1`, { timeout: 2000 })
    t.ok(Date.now() - woke < 1500, `left ${Date.now() - woke} ms after waking`)
    t.equal(pings.count(), 1, 'one ping, on waking')
    t.same(pings.statuses, [200], 'and the server answered it')
    await page.goto(`${demo.url}/dashboard`)
    t.equal(page.url(), `${demo.url}/login`, 'the server had logged the user out')
    t.same(probe.violations, [], 'no CSP violation')
  })

  t.test('asleep between warnAfter and expireAfter: warns as soon as it is visible', async t => {
    const { context, probe } = await newContext(t, browser)
    await context.clock.install()
    const page = await context.newPage()
    const pings = await watchPings(page)
    const start = await login(page, demo.url)
    const pageTime = await page.evaluate(() => Date.now())
    await setHidden(page, true)
    await pauseSoon(page, context)

    await sleep(start + WARN * 1000 + 600 - Date.now())
    t.equal(pings.count(), 0, 'no ping while asleep')
    await context.clock.setSystemTime(pageTime + (Date.now() - start))
    const woke = Date.now()
    await setHidden(page, false)
    await page.waitForFunction(() => (document.getElementById('session_security_warning') as HTMLDialogElement).open, undefined, { timeout: 1500 })
    t.ok(Date.now() - woke < 1000, `warned ${Date.now() - woke} ms after waking`)
    t.equal(await warningOpen(page), true)
    t.equal(pings.count(), 1, 'one ping, on waking')
    t.equal(page.url(), `${demo.url}/dashboard`, 'the session is still alive')
    t.same(probe.violations, [], 'no CSP violation')
  })

  // The lid closes and opens on a visible, focused page, and the browser sends none of the events
  // above. The page's timers resume where they stopped: its ping timer still has most of
  // warnAfter to run (here 3 s). The client's once-a-second check must notice that the time is up.
  t.test('asleep past expireAfter, woken with no event at all: leaves within about a second', async t => {
    const demo = await startDemo(3, EXPIRE)
    t.teardown(() => demo.close())
    const { context, probe } = await newContext(t, browser)
    await context.clock.install()
    // Logged in sessionStorage, which the login page that follows can still read; leaving and
    // loading a page send some of these events after the expiry, which is logged too.
    await context.addInitScript(() => {
      const log = (event: Event): void => {
        sessionStorage.setItem('events', `${sessionStorage.getItem('events') ?? ''}${event.type} `)
      }
      for (const type of ['focus', 'pageshow', 'online']) addEventListener(type, log, true)
      for (const type of ['visibilitychange', 'session-security:expire']) document.addEventListener(type, log, true)
    })
    const page = await context.newPage()
    const pings = await watchPings(page)
    await login(page, demo.url)
    const pageTime = await page.evaluate(() => Date.now())
    await pauseSoon(page, context)
    await page.evaluate(() => sessionStorage.setItem('events', ''))

    await sleep(EXPIRE * 1000 + 700)
    t.equal(pings.count(), 0, 'no ping while asleep')
    await context.clock.setSystemTime(pageTime + EXPIRE * 1000 + 800)
    const woke = Date.now()
    await context.clock.resume()

    const left = await page.waitForURL(`${demo.url}/login?expired=1`, { timeout: 2500 }).then(() => Date.now() - woke, () => Infinity)
    t.ok(left < 2000, `left ${left} ms after waking (its ping timer had about 2.9 s to run)`)
    t.equal(pings.count(), 1, 'one ping, after waking')
    const events = await page.evaluate(() => sessionStorage.getItem('events'))
    t.match(events, /^session-security:expire /, `no focus, pageshow, online or visibilitychange event before the expiry: ${events}`)
    await page.goto(`${demo.url}/dashboard`)
    t.equal(page.url(), `${demo.url}/login`, 'the server had logged the user out')
    t.same(probe.violations, [], 'no CSP violation')
  })
})
