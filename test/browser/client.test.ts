// The client against a scripted server (Playwright routes instead of the demo), for timings that
// the real server cannot be made to show: a slow link, and a page rendered after a load that the
// server did not count as activity.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Page } from 'playwright-core'
import { test } from 'tap'
import { launchBrowser, WARNING_OPEN } from '../helpers/browser.js'

// The script as the plugin serves it (npm run build:client).
const JS = readFileSync(resolve(import.meta.dirname, '../../dist/public/session-security.js'), 'utf8')

function html (attributes: string): string {
  return '<!doctype html><html><body><p>page</p><dialog id="session_security_warning"><p id="session_security_message">' +
    '<span id="session_security_counter"></span></p><p aria-live="polite"></p><button>stay</button></dialog>' +
    `<script src="/s.js" data-ping-url="/ping/" ${attributes}></script></body></html>`
}

/** Serves the page and the script, and answers pings like the server: idle since `serverLast`. */
async function scriptedServer (page: Page, attributes: string, serverLast: number, latencyMs = 0) {
  const pings: number[] = []
  await page.route('http://app.test/**', async route => {
    const url = new URL(route.request().url())
    if (url.pathname === '/s.js') return route.fulfill({ body: JS, contentType: 'text/javascript' })
    if (url.pathname === '/ping/') {
      pings.push(Date.now())
      serverLast = Math.max(serverLast, Date.now() - Number(url.searchParams.get('idleFor')) * 1000)
      if (latencyMs > 0) await new Promise(resolve => setTimeout(resolve, latencyMs))
      return route.fulfill({ body: String(Math.floor((Date.now() - serverLast) / 1000)), contentType: 'application/json' })
    }
    return route.fulfill({ body: html(attributes), contentType: 'text/html' })
  })
  return pings
}

test('client timing', async t => {
  const browser = await launchBrowser()
  t.teardown(() => browser.close())

  t.test('an active user on a slow link does not make the page ping without pause', async t => {
    const page = await browser.newPage()
    t.teardown(() => page.close())
    // Each answer takes longer than the one-second activity throttle.
    const pings = await scriptedServer(page, 'data-warn-after="4" data-expire-after="60"', Date.now(), 1500)
    await page.goto('http://app.test/')
    const end = Date.now() + 12_000
    let x = 10
    while (Date.now() < end) {
      x = x === 10 ? 200 : 10
      await page.mouse.move(x, x)
      await page.waitForTimeout(300)
    }
    t.comment(`pings at ${pings.map(at => at - pings[0]).join(', ')} ms`)
    t.ok(pings.length >= 1, 'the server heard of the activity')
    // A ping at warnAfter, then one about every warnAfter + round trip: 3 in 12 s; pinging again
    // after every answer would make about 6.
    t.ok(pings.length <= 4, `${pings.length} pings in 12 s of activity`)
    t.equal(await page.isVisible(WARNING_OPEN), false, 'and no warning')
  })

  t.test('a page starts from the idle time that the server counts (data-idle-for)', async t => {
    const page = await browser.newPage()
    t.teardown(() => page.close())
    // The server did not take this load as activity (a navigation that another site started):
    // its last activity is 3 s old when the page arrives.
    await scriptedServer(page, 'data-warn-after="4" data-expire-after="60" data-idle-for="3"', Date.now() - 3000)
    await page.goto('http://app.test/')
    // Timed from the load event, so a slow page load does not count against the bound.
    const loaded = Date.now()
    await page.waitForSelector(WARNING_OPEN, { timeout: 4000 })
    const after = Date.now() - loaded
    t.ok(after < 2500, `warned ${after} ms after the load, at the server's warnAfter, not 4 s after the load`)
  })
})
