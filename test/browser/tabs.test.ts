// Several tabs of one browser (README "Browser client" › "What it does"): the warning shows in every tab and activity
// in one hides it in all; activity in one tab keeps another from warning, and an expiry in one
// takes every tab away at once, without those tabs hearing from the server: their pings are held
// by the test (recorded, never answered), so what they do they learned from the other tab.
// The same with BroadcastChannel removed, through the storage-event fallback.
import { test } from 'tap'
import type { BrowserContext, Page } from 'playwright-core'
import { label, login, newContext, sleep, startBrowserAndDemo, warningOpen, watchPings, WARNING_OPEN } from '../helpers/browser.js'

const WARN = 2
const EXPIRE = 5

test('tabs', async t => {
  const { browser, demo } = await startBrowserAndDemo(t, WARN, EXPIRE)

  async function secondTab (context: BrowserContext, name: string, hold = false): Promise<{ page: Page, pings: Awaited<ReturnType<typeof watchPings>> }> {
    const page = label(await context.newPage(), name)
    const pings = await watchPings(page, { hold })
    await page.goto(`${demo.url}/dashboard`)
    return { page, pings }
  }

  for (const channel of ['BroadcastChannel', 'storage events'] as const) {
    t.test(`${channel}: the warning shows in every tab, and activity in one hides it in all`, async t => {
      const { context, probe } = await newContext(t, browser)
      if (channel === 'storage events') await context.addInitScript(() => { delete (window as any).BroadcastChannel })
      const a = label(await context.newPage(), 'A')
      await login(a, demo.url)
      const { page: b } = await secondTab(context, 'B')
      t.equal(await b.evaluate(() => 'BroadcastChannel' in window), channel === 'BroadcastChannel', `tabs talk through ${channel}`)

      await Promise.all([a, b].map(page => page.waitForSelector(WARNING_OPEN, { timeout: (WARN + 3) * 1000 })))
      const warned = probe.events.filter(event => event.type === 'warn')
      t.same(warned.map(event => event.page).sort(), ['A', 'B'], 'both tabs warned')
      t.ok(Math.abs(warned[0].at - warned[1].at) < 700, `together (${Math.abs(warned[0].at - warned[1].at)} ms apart)`)

      await a.mouse.move(100, 100)
      await a.mouse.move(130, 120)
      await sleep(500)
      t.equal(await warningOpen(a), false, 'hidden in the tab that moved')
      t.equal(await warningOpen(b), false, 'hidden in the other tab')
      t.same(probe.violations, [], 'no CSP violation')
    })
  }

  t.test('activity in one tab keeps another from warning; an expiry in one takes all away at once', async t => {
    const { context, probe } = await newContext(t, browser)
    const a = label(await context.newPage(), 'A')
    const aPings = await watchPings(a)
    await login(a, demo.url)
    const { page: b, pings: bPings } = await secondTab(context, 'B', true)

    // The user works in A for more than twice warnAfter; B is left alone.
    const busyUntil = Date.now() + 2 * WARN * 1000 + 1000
    let lastActivity = 0
    for (let x = 10; Date.now() < busyUntil; x = (x + 37) % 300) {
      lastActivity = Date.now()
      await a.mouse.move(x + 5, x + 10)
      await sleep(300)
    }
    // Activity is recorded at most once a second: the last one counted may be a second older.
    const SLACK = 1000 + 400
    t.equal(probe.events.filter(event => event.type === 'warn').length, 0, 'no tab warned while A was busy')
    t.equal(await warningOpen(b), false, 'B shows no warning')
    t.ok(aPings.count() >= 1, `A kept the server informed (${aPings.count()} pings)`)
    t.comment(`B sent ${bPings.count()} pings; none was answered`)

    // Now nobody moves. Both warn, then both leave, B within moments of A although the server
    // never answered B: it followed A's "logout" without a round trip of its own.
    await b.waitForSelector(WARNING_OPEN, { timeout: (WARN + 3) * 1000 })
    t.ok(Date.now() - lastActivity >= WARN * 1000 - SLACK, 'B warned warnAfter after A\'s last activity')
    const left: Record<string, number> = {}
    await Promise.all([a, b].map(async (page, i) => {
      await page.waitForURL(`${demo.url}/login?expired=1`, { timeout: (EXPIRE + 3) * 1000 })
      left[i === 0 ? 'A' : 'B'] = Date.now()
    }))
    t.ok(Math.abs(left.A - left.B) < 1000, `both tabs left together (${Math.abs(left.A - left.B)} ms apart)`)
    const elapsed = Math.min(left.A, left.B) - lastActivity
    t.ok(elapsed >= EXPIRE * 1000 - SLACK && elapsed <= EXPIRE * 1000 + 2500, `expiry ${elapsed} ms after the last activity`)
    t.equal(probe.events.filter(event => event.type === 'expire').map(event => event.page).sort().join(), 'A,B', 'both tabs fired session-security:expire')
    t.same(probe.violations, [], 'no CSP violation')
  })
})
