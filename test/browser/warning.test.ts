// One tab against the demo (README "Browser client" › "What it does"): the snippet is absent for anonymous pages; the
// warning opens after warnAfter as an accessible modal with a countdown; activity hides it and
// pings at once; activity before warnAfter postpones it; expiry goes to returnToUrl and the server
// has logged the user out. Every page runs under the demo's CSP (default-src 'self') with no
// violation. Timeouts: warnAfter 2 s, expireAfter 5 s; the client adds up to 0.5 s of jitter.
import { test } from 'tap'
import type { Route } from 'playwright-core'
import {
  axeViolations, label, login, newContext, PING_PATH, sleep, startBrowserAndDemo, warningOpen, watchPings, WARNING_OPEN
} from '../helpers/browser.js'

const WARN = 2
const EXPIRE = 5

test('one tab', async t => {
  const { browser, demo } = await startBrowserAndDemo(t, WARN, EXPIRE)

  t.test('an anonymous page gets no snippet, and pages carry the strict CSP', async t => {
    const { context, probe } = await newContext(t, browser)
    const page = await context.newPage()
    const assets: string[] = []
    page.on('request', request => { if (request.url().includes('/session_security/')) assets.push(request.url()) })
    const response = await page.goto(`${demo.url}/login`)
    t.match(response?.headers()['content-security-policy'], /^default-src 'self'/)
    t.equal(await page.locator('#session_security_warning').count(), 0, 'no dialog')
    t.equal(await page.locator('script[data-ping-url]').count(), 0, 'no client script')
    t.same(assets, [], 'nothing loaded from the plugin')
    t.same(probe.violations, [], 'no CSP violation')

    // The probe can fail: an inline style attribute is a violation under this policy.
    await page.evaluate(() => { document.body.setAttribute('style', 'color: red') })
    await sleep(200)
    t.ok(probe.violations.length > 0, `the probe hears a violation when there is one: ${probe.violations[0]}`)
  })

  t.test('the warning opens after warnAfter: focus inside, countdown, axe finds nothing', async t => {
    const { context, probe } = await newContext(t, browser)
    const page = label(await context.newPage(), 'A')
    const pings = await watchPings(page)
    const assets: Array<{ url: string, status: number, type?: string, cache?: string }> = []
    page.on('response', response => {
      if (response.url().includes('/session_security/static/')) {
        const headers = response.headers()
        assets.push({ url: new URL(response.url()).pathname, status: response.status(), type: headers['content-type'], cache: headers['cache-control'] })
      }
    })
    const start = await login(page, demo.url)
    t.equal(await warningOpen(page), false, 'closed at first')
    t.same(assets.map(asset => asset.url).sort(), ['/session_security/static/session-security.css', '/session_security/static/session-security.js'], 'the plugin serves the client')
    for (const asset of assets) {
      t.match(asset, { status: 200, type: /^(text\/css|application\/javascript|text\/javascript)/, cache: /immutable/ }, `${asset.url}: versioned, kept by the browser`)
    }

    await page.waitForSelector(WARNING_OPEN, { timeout: (WARN + 3) * 1000 })
    const elapsed = Date.now() - start
    t.ok(elapsed >= WARN * 1000 - 300 && elapsed <= WARN * 1000 + 1500, `opened after ${elapsed} ms (warnAfter ${WARN} s)`)
    t.equal(pings.count(), 1, 'one ping, at the threshold')
    t.same(probe.events.filter(event => event.type === 'warn').length, 1, 'session-security:warn fired once')

    const focus = await page.evaluate(() => {
      const active = document.activeElement
      return { inside: document.getElementById('session_security_warning')?.contains(active) === true, text: active?.textContent }
    })
    t.same(focus, { inside: true, text: 'Stay signed in' }, 'focus is on the dialog\'s button')
    const first = await page.textContent('#session_security_counter')
    t.match(first, /^0:0[1-3]$/, `countdown shows ${first}`)
    await sleep(1100)
    const second = await page.textContent('#session_security_counter')
    t.ok(Number(second?.slice(2)) < Number(first?.slice(2)), `countdown runs: ${first} then ${second}`)

    const violations = await axeViolations(page, '#session_security_warning')
    t.same(violations, [], 'axe-core: no violation in the open dialog')
    t.same(probe.violations, [], 'no CSP violation')
  })

  t.test('activity hides the warning and pings at once; Enter and Escape keep the session too', async t => {
    const { context, probe } = await newContext(t, browser)
    const page = label(await context.newPage(), 'A')
    const pings = await watchPings(page)
    await login(page, demo.url)
    await page.waitForSelector(WARNING_OPEN, { timeout: (WARN + 3) * 1000 })

    const moved = Date.now()
    await page.mouse.move(200, 200)
    await page.mouse.move(240, 230)
    await page.waitForSelector(WARNING_OPEN, { state: 'detached', timeout: 1000 }).catch(() => {})
    t.equal(await warningOpen(page), false, 'hidden after a mouse move')
    await sleep(300)
    t.equal(pings.count(moved), 1, 'pinged at once')
    t.ok(probe.events.some(event => event.type === 'activity' && event.at >= moved), 'session-security:activity fired')

    // The server heard the activity: the next warning is warnAfter later, not at once.
    await sleep(WARN * 1000 - 600)
    t.equal(await warningOpen(page), false, 'still hidden just before warnAfter')
    await page.waitForSelector(WARNING_OPEN, { timeout: 3000 })
    t.ok(Date.now() - moved >= WARN * 1000 - 300, 'warns again warnAfter after the activity')

    await page.keyboard.press('Enter')
    await sleep(300)
    t.equal(await warningOpen(page), false, 'Enter on "Stay signed in" hides it')
    await page.waitForSelector(WARNING_OPEN, { timeout: (WARN + 2) * 1000 })
    await page.keyboard.press('Escape')
    await sleep(300)
    t.equal(await warningOpen(page), false, 'Escape hides it')
    t.equal(page.url(), `${demo.url}/dashboard`, 'still on the dashboard')
    t.same(probe.violations, [], 'no CSP violation')
  })

  // The ping at warnAfter is slow: the user moves while it is pending. That activity must count:
  // neither a late answer (which predates it) nor a failure may bring up the warning, and the
  // server must hear of it at once. No ping may leave its 10 s abort timer behind.
  for (const end of ['answered late', 'aborted'] as const) {
    t.test(`activity while a ping is pending is not lost: the ping is ${end}`, async t => {
      const { context, probe } = await newContext(t, browser)
      // The client's 10 s abort timers, while they are pending.
      await context.addInitScript(() => {
        const pending = new Set<number>()
        const { setTimeout: set, clearTimeout: clear } = window
        Object.assign(window, {
          __abortTimers: pending,
          setTimeout: (handler: () => void, ms?: number, ...rest: unknown[]) => {
            if (ms !== 10_000) return set(handler, ms, ...rest)
            const id = set(() => { pending.delete(id); handler() }, ms)
            pending.add(id)
            return id
          },
          clearTimeout: (id?: number) => {
            if (id !== undefined) pending.delete(id)
            clear(id)
          }
        })
      })
      const page = await context.newPage()
      const pings: Array<{ at: number, idleFor: string | null }> = []
      let held: Route | undefined
      let first: () => void = () => {}
      const firstSeen = new Promise<void>(resolve => { first = resolve })
      await page.route(url => url.pathname === PING_PATH, route => {
        pings.push({ at: Date.now(), idleFor: new URL(route.request().url()).searchParams.get('idleFor') })
        if (held === undefined) {
          held = route
          first()
          return
        }
        return route.continue()
      })
      const start = await login(page, demo.url)
      await firstSeen
      t.ok(pings[0].at - start >= WARN * 1000 - 300, `the first ping is the one at warnAfter (${pings[0].at - start} ms), held`)

      await page.mouse.move(200, 200)
      await page.mouse.move(240, 230)
      const moved = Date.now()
      await sleep(600)
      t.equal(pings.length, 1, 'no other ping while it is pending')
      if (end === 'aborted') await held?.abort()
      else await held?.continue()
      await sleep(600)
      t.equal(await warningOpen(page), false, 'no warning')
      t.same(probe.events.filter(event => event.type === 'warn'), [], 'session-security:warn never fired')
      t.equal(pings.length, 2, 'pinged again at once')
      t.ok(Number(pings[1]?.idleFor) <= Math.ceil((pings[1]?.at - moved) / 1000), `that ping carries the idle time since the activity: idleFor=${pings[1]?.idleFor}`)
      t.same(await page.evaluate(() => [...(window as unknown as { __abortTimers: Set<number> }).__abortTimers]), [], 'no abort timer left once the pings have settled')

      // The server heard of the activity: the warning comes warnAfter after it, not before.
      await page.waitForSelector(WARNING_OPEN, { timeout: (WARN + 2) * 1000 })
      const elapsed = Date.now() - moved
      t.ok(elapsed >= WARN * 1000 - 300, `warned ${elapsed} ms after the activity`)
      t.equal(page.url(), `${demo.url}/dashboard`, 'still on the dashboard')
      t.same(probe.violations, [], 'no CSP violation')
    })
  }

  t.test('activity before warnAfter postpones the warning', async t => {
    const { context, probe } = await newContext(t, browser)
    const page = await context.newPage()
    const start = await login(page, demo.url)
    await sleep(1200)
    const moved = Date.now()
    await page.mouse.move(50, 50)
    await page.mouse.move(90, 80)
    await sleep(start + WARN * 1000 + 700 - Date.now())
    t.equal(await warningOpen(page), false, 'no warning at warnAfter after the page load')
    await page.waitForSelector(WARNING_OPEN, { timeout: 3000 })
    const elapsed = Date.now() - moved
    t.ok(elapsed >= WARN * 1000 - 300, `warned ${elapsed} ms after the activity`)
    t.same(probe.violations, [], 'no CSP violation')
  })

  t.test('manual use: SessionSecurity.stop() and start()', async t => {
    const { context, probe } = await newContext(t, browser)
    const page = await context.newPage()
    const pings = await watchPings(page)
    await login(page, demo.url)
    const api = await page.evaluate(() => Object.keys((window as unknown as { SessionSecurity: object }).SessionSecurity).sort())
    t.same(api, ['start', 'stop'], 'one global, start and stop')
    await page.evaluate(() => (window as unknown as { SessionSecurity: { stop: () => void } }).SessionSecurity.stop())
    await sleep(WARN * 1000 + 800)
    t.equal(await warningOpen(page), false, 'stopped: no warning')
    t.equal(pings.count(), 0, 'stopped: no ping')

    // The server's last activity is the sign-in, warnAfter + 0.8 s ago by now: on a slow machine the
    // ping that start() sends could find the session at its end. A request now counts as activity.
    await context.request.get(`${demo.url}/dashboard`)
    const started = Date.now()
    await page.evaluate((warnAfter: number) => {
      const { start } = (window as unknown as { SessionSecurity: { start: (options: object) => void } }).SessionSecurity
      start({ pingUrl: '/session_security/ping/', warnAfter, expireAfter: 60 })
    }, 1)
    await page.waitForSelector(WARNING_OPEN, { timeout: 3000 })
    t.ok(Date.now() - started >= 700, 'started by hand with its own warnAfter (1 s)')
    t.equal(pings.count(), 1, 'asked the server first')
    const bad = await page.evaluate(() => {
      try {
        (window as unknown as { SessionSecurity: { start: (options: object) => void } }).SessionSecurity.start({ pingUrl: '/x', warnAfter: 5, expireAfter: 5 })
        return 'no error'
      } catch (err) {
        return (err as Error).name
      }
    })
    t.equal(bad, 'TypeError', 'bad options throw')
    t.same(probe.violations, [], 'no CSP violation')
  })

  t.test('expiry goes to returnToUrl, and the server has logged the user out', async t => {
    const { context, probe } = await newContext(t, browser)
    const page = await context.newPage()
    const start = await login(page, demo.url)
    await page.waitForURL(`${demo.url}/login?expired=1`, { timeout: (EXPIRE + 3) * 1000 })
    const elapsed = Date.now() - start
    t.ok(elapsed >= EXPIRE * 1000 - 300 && elapsed <= EXPIRE * 1000 + 2000, `left after ${elapsed} ms (expireAfter ${EXPIRE} s)`)
    t.equal(await page.locator('#expired-notice').count(), 1, 'the login page says why')
    t.ok(probe.events.some(event => event.type === 'expire'), 'session-security:expire fired')

    await page.goto(`${demo.url}/dashboard`)
    t.equal(page.url(), `${demo.url}/login`, 'the dashboard sends the visitor to the login page')
    t.same(probe.violations, [], 'no CSP violation')
  })
})
