// Two applications on one origin (/a and /b, each with its own session cookie, ping URL and
// plugin): the browser gives them one BroadcastChannel namespace and one localStorage, but
// neither's activity nor its expiry may reach the other. The user works in A (real mouse moves);
// B, left alone, warns and leaves on time, its server session gone; A stays, signed in. The same
// through the storage-event fallback, with BroadcastChannel removed.
import { test } from 'tap'
import { label, newContext, sleep, launchBrowser } from '../helpers/browser.js'
import { startClientApps } from '../helpers/client-app.js'

const WARN = 2
const EXPIRE = 5

test('two applications on one origin', async t => {
  const browser = await launchBrowser()
  t.teardown(() => browser.close())
  const [a, b] = await startClientApps(t, [
    { prefix: '/a', warnAfter: WARN, expireAfter: EXPIRE },
    { prefix: '/b', warnAfter: WARN, expireAfter: EXPIRE }
  ])

  for (const channel of ['BroadcastChannel', 'storage events'] as const) {
    t.test(`${channel}: activity in A does not keep B alive, and B's expiry does not end A`, async t => {
      const { context, probe } = await newContext(t, browser)
      if (channel === 'storage events') await context.addInitScript(() => { delete (window as any).BroadcastChannel })
      await context.request.get(`${a.url}/login`)
      await context.request.get(`${b.url}/login`)
      const pageA = label(await context.newPage(), 'A')
      await pageA.goto(`${a.url}/page`)
      const pageB = label(await context.newPage(), 'B')
      const since = Date.now()
      await pageB.goto(`${b.url}/page`)
      t.equal(await pageB.evaluate(() => 'BroadcastChannel' in window), channel === 'BroadcastChannel', `tabs talk through ${channel}`)

      const pageBLeft = { at: undefined as number | undefined }
      const bLeft = pageB.waitForURL(`${b.url}/bye`, { timeout: (EXPIRE + 4) * 1000, waitUntil: 'commit' }).then(() => { pageBLeft.at = Date.now() }, () => {})
      // The user moves the mouse in A until B has left, and a little longer.
      const until = Date.now() + (EXPIRE + 4) * 1000
      let x = 10
      while (Date.now() < until && (pageBLeft.at === undefined || Date.now() < pageBLeft.at + 2000)) {
        x = x === 10 ? 200 : 10
        await pageA.mouse.move(x, x + 20, { steps: 2 })
        await sleep(1500)
      }
      await bLeft
      const bLeftAt = pageBLeft.at

      const warned = probe.events.filter(event => event.type === 'warn').map(event => event.page)
      t.ok(warned.includes('B'), 'B warned')
      t.ok(bLeftAt !== undefined, 'B left for its returnToUrl')
      if (bLeftAt !== undefined) {
        const after = bLeftAt - since
        t.ok(after >= EXPIRE * 1000 - 500 && after <= EXPIRE * 1000 + 2500, `B left ${after} ms after its last request (expireAfter ${EXPIRE} s)`)
      }
      t.equal(await b.signedIn(context), false, 'B\'s server session is gone')
      t.equal(new URL(pageA.url()).pathname, '/a/page', 'A is still on its page')
      t.equal(await pageA.isVisible('#data'), true, 'with its data')
      t.notOk(probe.events.some(event => event.page === 'A' && event.type === 'expire'), 'A heard no expiry')
      t.equal(await a.signedIn(context), true, 'A\'s server session is alive')
    })
  }
})
