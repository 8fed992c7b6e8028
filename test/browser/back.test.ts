// Back after the session ended never shows its data. A user signs out (POST) or is signed out
// after expireAfter, then presses Back: the page may come back from the back-forward cache (its
// scripts frozen since it was left) or from the HTTP cache (a page with no Cache-Control, or one
// whose route let the cache keep it for ten minutes), with the idle time it was rendered with.
// Either way the page's data must not be visible for more than a second: the client hides the
// content of a page shown by Back or Forward and asks the server before it shows anything, and
// leaves when the server says the session is gone. A probe reports every frame, just before it is
// painted, in which the data is visible.
import { test, type Test } from 'tap'
import type { Browser, Page } from 'playwright-core'
import { sleep } from '../helpers/browser.js'
import { launchChromium, startClientApps, watchFrames, type FrameLog } from '../helpers/client-app.js'

const WARN = 2
const EXPIRE = 4
/** How long the test watches a page after Back: longer than warnAfter, when an old page that trusted its stale idle time would ask the server. */
const WATCH = WARN * 1000 + 1500

test('Back after the session ended shows no data', async t => {
  const [app] = await startClientApps(t, [{ warnAfter: WARN, expireAfter: EXPIRE }])

  async function goBackAndWatch (t: Test, page: Page, frames: FrameLog): Promise<void> {
    const backAt = Date.now()
    await page.goBack({ waitUntil: 'commit' })
    await sleep(WATCH)
    const visible = frames.visible.filter(at => at >= backAt)
    const shows = frames.shows.filter(show => show.at >= backAt)
    t.comment(`after Back: ${shows.map(show => show.persisted ? 'from the back-forward cache' : `loaded (${show.navigation})`).join(', ') || 'no pageshow'}; ` +
      `${visible.length} frames with the data visible${visible.length > 0 ? `, ${visible[0] - backAt} to ${visible[visible.length - 1] - backAt} ms after Back` : ''}`)
    const span = visible.length === 0 ? 0 : visible[visible.length - 1] - visible[0]
    t.ok(span < 1000, `the data was visible for ${span} ms (under a second)`)
    t.equal(await page.isVisible('#data'), false, `no data on screen ${WATCH} ms after Back (at ${new URL(page.url()).pathname})`)
  }

  for (const backForwardCache of [false, true]) {
    t.test(`back-forward cache ${backForwardCache ? 'on' : 'off'}`, async t => {
      const browser: Browser = await launchChromium(t, { backForwardCache })

      for (const path of ['/page', '/cached-page']) {
        t.test(`${path}: Back after a sign-out`, async t => {
          const context = await browser.newContext()
          t.teardown(() => context.close())
          const frames = await watchFrames(context)
          await context.request.get(`${app.url}/login`)
          const page = await context.newPage()
          await page.goto(`${app.url}${path}`)
          t.equal(await page.isVisible('#data'), true, 'the data shows while signed in')
          await Promise.all([page.waitForURL(`${app.url}/bye`), page.click('#signout')])
          t.equal(await app.signedIn(context), false, 'signed out on the server')
          await goBackAndWatch(t, page, frames)
        })

        t.test(`${path}: Back after an expiry`, async t => {
          const context = await browser.newContext()
          t.teardown(() => context.close())
          const frames = await watchFrames(context)
          await context.request.get(`${app.url}/login`)
          const page = await context.newPage()
          // Two pages with data in the history, so that Back finds one whichever way the client
          // leaves at expiry (a new history entry, or one that replaces the expired page).
          await page.goto(`${app.url}${path}?first`)
          await page.goto(`${app.url}${path}`)
          // Waits for /bye to load, not only to commit: with the back-forward cache on, Chromium may
          // move the page to a new renderer on that navigation, and a Back sent while Playwright
          // attaches to it fails ("Not attached to an active page").
          await page.waitForURL(`${app.url}/bye`, { timeout: (EXPIRE + 3) * 1000 })
          t.equal(await app.signedIn(context), false, 'signed out on the server')
          await goBackAndWatch(t, page, frames)
        })
      }
    })
  }
})
