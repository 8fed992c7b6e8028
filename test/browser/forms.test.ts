// Unsaved changes (README "Browser client" › "What it does"): a page with an edited form asks before leaving, a saved
// form does not, and an expiry leaves without asking even with an edited form.
import { test } from 'tap'
import type { Dialog } from 'playwright-core'
import { login, newContext, sleep, startBrowserAndDemo } from '../helpers/browser.js'

const WARN = 3
const EXPIRE = 5

test('forms', async t => {
  const { browser, demo } = await startBrowserAndDemo(t, WARN, EXPIRE)

  t.test('an edited form asks before leaving; a saved one does not', async t => {
    const { context, probe } = await newContext(t, browser)
    const page = await context.newPage()
    await login(page, demo.url)
    await page.click('#notes')
    await page.keyboard.type('account numbers')

    const asked: string[] = []
    const answer = (accept: boolean) => (dialog: Dialog) => {
      asked.push(dialog.type())
      // A failed answer shows up in what the test compares.
      ;(accept ? dialog.accept() : dialog.dismiss()).catch((err: Error) => { asked.push(`answer failed: ${err.message}`) })
    }
    page.once('dialog', answer(false))
    await page.click('text=Statements', { noWaitAfter: true })
    await sleep(500)
    t.same(asked, ['beforeunload'], 'the browser asked')
    t.equal(page.url(), `${demo.url}/dashboard`, 'stayed when told to')

    page.on('dialog', answer(true))
    await page.click('#notes-form button[type=submit]')
    await page.waitForURL(`${demo.url}/dashboard?saved=1`)
    t.equal(await page.inputValue('#notes'), 'account numbers', 'saved')
    t.same(asked, ['beforeunload'], 'saving the form does not ask')
    await page.click('text=Statements')
    await page.waitForURL(`${demo.url}/statements`)
    t.same(asked, ['beforeunload'], 'nor does leaving a saved page')
    t.same(probe.violations, [], 'no CSP violation')
  })

  t.test('an expiry leaves an edited form without asking', async t => {
    const { context, probe } = await newContext(t, browser)
    const page = await context.newPage()
    await login(page, demo.url)
    await page.click('#notes')
    await page.keyboard.type('half-written')
    const typed = Date.now()
    const asked: string[] = []
    page.on('dialog', dialog => {
      asked.push(dialog.type())
      dialog.dismiss().catch((err: Error) => { asked.push(`answer failed: ${err.message}`) })
    })
    await page.waitForURL(`${demo.url}/login?expired=1`, { timeout: (EXPIRE + 4) * 1000 })
    const elapsed = Date.now() - typed
    t.ok(elapsed >= EXPIRE * 1000 - 1300 && elapsed <= EXPIRE * 1000 + 2500, `left ${elapsed} ms after the last key`)
    t.same(asked, [], 'no question')
    t.same(probe.violations, [], 'no CSP violation')
  })
})
