// Only the user keeps a session alive. A page that nobody touches must leave, and its server
// session must be gone, expireAfter after the last request the server counted, whatever the page
// does by itself meanwhile: a feed growing above the reading position (scroll anchoring moves the
// page and fires trusted scroll events), scrollTo from page code, input events dispatched by a
// script, the dialog closed by a script, or a page on another site that opened the application in
// a popup and changes only its #fragment (no request of its own ever reaches the server). Each
// runs every 1.5 s; the control, real mouse moves every 1.5 s, keeps the session alive.
import { test, type Test } from 'tap'
import type { BrowserContext, Page } from 'playwright-core'
import { launchBrowser, newContext, sleep } from '../helpers/browser.js'
import { startClientApps, startOtherSite } from '../helpers/client-app.js'

const WARN = 2
const EXPIRE = 5
const PERIOD = 1500

test('only trusted user input keeps the session alive', async t => {
  const browser = await launchBrowser()
  t.teardown(() => browser.close())
  const [app] = await startClientApps(t, [{ warnAfter: WARN, expireAfter: EXPIRE }])

  /** Signs in (a request the server counts), opens the page; returns the time of the sign-in. */
  async function signedInPage (t: Test): Promise<{ context: BrowserContext, page: Page, since: number }> {
    const { context } = await newContext(t, browser)
    await context.request.get(`${app.url}/login`)
    const page = await context.newPage()
    const since = Date.now()
    await page.goto(`${app.url}/page`)
    return { context, page, since }
  }

  /**
   * Runs `act` every PERIOD ms until the page leaves for returnToUrl or EXPIRE + 4 s have passed;
   * resolves to the time the page left, or undefined.
   */
  async function untilLeft (page: Page, act: () => Promise<unknown>): Promise<number | undefined> {
    const deadline = Date.now() + (EXPIRE + 4) * 1000
    const left = page.waitForURL(`${app.url}/bye`, { timeout: (EXPIRE + 4) * 1000, waitUntil: 'commit' }).then(() => Date.now(), () => undefined)
    while (Date.now() < deadline) {
      await act().catch(() => {}) // the page may be leaving while the act runs
      if (await Promise.race([sleep(PERIOD).then(() => false), left.then(() => true)])) break
    }
    return left
  }

  /**
   * The page left `expireAfter` after the last request that the server counted, which was at
   * `since` or, when only a range is known, between `since` and `latestSince`.
   */
  async function assertLeftOnTime (t: Test, context: BrowserContext, since: number, leftAt: number | undefined, latestSince = since): Promise<void> {
    t.ok(leftAt !== undefined, 'the page left for returnToUrl')
    if (leftAt !== undefined) {
      const after = leftAt - since
      t.ok(after >= EXPIRE * 1000 - 500 && leftAt - latestSince <= EXPIRE * 1000 + 3000, `left ${after} ms after the last request the server counted (expireAfter ${EXPIRE} s)`)
    }
    t.equal(await app.signedIn(context), false, 'the server session is gone')
  }

  t.test('a feed that grows above the reading position', async t => {
    const { context, page, since } = await signedInPage(t)
    await page.evaluate(() => {
      const feed = document.getElementById('feed') as HTMLElement
      window.scrollTo(0, document.documentElement.scrollHeight)
      ;(window as unknown as { trustedScrolls: number }).trustedScrolls = 0
      addEventListener('scroll', event => { if (event.isTrusted) (window as unknown as { trustedScrolls: number }).trustedScrolls++ })
      let n = 0
      setInterval(() => {
        for (let i = 0; i < 5; i++) {
          const item = document.createElement('li')
          item.textContent = `new line ${n++}`
          feed.prepend(item)
        }
      }, 1500)
    })
    let trustedScrolls = 0
    const leftAt = await untilLeft(page, async () => {
      trustedScrolls = Math.max(trustedScrolls, await page.evaluate(() => (window as unknown as { trustedScrolls: number }).trustedScrolls))
    })
    t.ok(trustedScrolls > 0, `scroll anchoring moved the page: ${trustedScrolls} trusted scroll events`)
    await assertLeftOnTime(t, context, since, leftAt)
  })

  t.test('scrollTo from page code', async t => {
    const { context, page, since } = await signedInPage(t)
    let y = 0
    const leftAt = await untilLeft(page, () => page.evaluate(top => window.scrollTo(0, top), (y = y === 0 ? 600 : 0)))
    await assertLeftOnTime(t, context, since, leftAt)
  })

  t.test('input events dispatched by a script', async t => {
    const { context, page, since } = await signedInPage(t)
    const leftAt = await untilLeft(page, () => page.evaluate(() => {
      const init = { bubbles: true, cancelable: true, composed: true }
      document.body.dispatchEvent(new PointerEvent('pointermove', { ...init, movementX: 5, movementY: 5, clientX: 50, clientY: 50 }))
      document.body.dispatchEvent(new PointerEvent('pointerdown', init))
      document.body.dispatchEvent(new MouseEvent('mousemove', { ...init, movementX: 5, movementY: 5 }))
      document.body.dispatchEvent(new MouseEvent('mousedown', init))
      document.body.dispatchEvent(new KeyboardEvent('keydown', { ...init, key: 'a' }))
      document.body.dispatchEvent(new WheelEvent('wheel', { ...init, deltaY: 40 }))
      window.dispatchEvent(new Event('scroll'))
    }))
    await assertLeftOnTime(t, context, since, leftAt)
  })

  t.test('the warning closed by a script: its button clicked and dialog.close()', async t => {
    const { context, page, since } = await signedInPage(t)
    let closed = 0
    const leftAt = await untilLeft(page, async () => {
      closed += await page.evaluate(() => {
        const dialog = document.getElementById('session_security_warning') as HTMLDialogElement
        if (!dialog.open) return 0
        dialog.querySelector('button')?.click()
        dialog.close()
        return 1
      })
    })
    t.ok(closed > 0, `the script closed the open warning ${closed} times`)
    await assertLeftOnTime(t, context, since, leftAt)
  })

  t.test('a page on another site changes the #fragment of the application it opened', async t => {
    const { context } = await newContext(t, browser)
    await context.request.get(`${app.url}/login`)
    const otherSite = await startOtherSite(t, '<!doctype html><button id="open">open</button><script>' +
      'let popup; let n = 0;' +
      `document.getElementById('open').onclick = () => { popup = window.open(${JSON.stringify(app.url + '/page')}, 'app') };` +
      `window.moveFragment = () => { popup.location = ${JSON.stringify(app.url + '/page#line-')} + (20 + (n++ % 40)) };` +
      '</script>')
    const opener = await context.newPage()
    await opener.goto(otherSite)
    const opened = Date.now()
    const [popup] = await Promise.all([context.waitForEvent('page'), opener.click('#open')])
    await popup.waitForLoadState('domcontentloaded')
    const loaded = Date.now()
    // The server may or may not count a load that another site started: the page says which. It
    // answered between the click and the load.
    const idleFor = Number(await popup.getAttribute('script[data-idle-for]', 'data-idle-for'))
    const since = opened - idleFor * 1000
    t.comment(`the server counts ${idleFor} s of idle time at the popup's load`)
    let moved = 0
    const leftAt = await untilLeft(popup, async () => {
      await opener.evaluate(() => (window as unknown as { moveFragment: () => void }).moveFragment())
      moved++
    })
    t.ok(moved >= 3, `the other site moved the fragment ${moved} times`)
    await assertLeftOnTime(t, context, since, leftAt, loaded - idleFor * 1000)
  })

  t.test('control: real mouse moves every 1.5 s keep the session alive', async t => {
    const { context, page } = await signedInPage(t)
    const until = Date.now() + (EXPIRE + 2) * 1000
    let x = 10
    while (Date.now() < until) {
      x = x === 10 ? 200 : 10
      await page.mouse.move(x, x + 20, { steps: 2 })
      await sleep(PERIOD)
    }
    t.equal(new URL(page.url()).pathname, '/page', `still on the page ${EXPIRE + 2} s later`)
    t.equal(await page.isVisible('#data'), true, 'its data shown')
    t.equal(await app.signedIn(context), true, 'the server session is alive')
  })
})
