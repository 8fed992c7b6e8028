// The absolute end in the browser. With absoluteTimeout 8 s, warnAfter 3 s and expireAfter 6 s, an
// active user (real mouse moves every second, so the idle end never comes) sees the warning before
// the absolute end expireAfter - warnAfter = 3 s before it, with its own heading and text (not the
// idle ones) and its own countdown; activity does not close it; the page leaves at the end, and the
// server session is over. When the idle end comes first, the idle warning shows as before, and
// activity that answers it lets the absolute one show when its time comes. Tabs of one sign-in
// announce and leave together. The page is sampled every 100 ms.
import { test, type Test } from 'tap'
import type { BrowserContext, Page } from 'playwright-core'
import { axeViolations, label, launchBrowser, newContext, sleep, WARNING, WARNING_OPEN, type Probe } from '../helpers/browser.js'
import { startClientApps, type ClientApp } from '../helpers/client-app.js'

const WARN = 3
const EXPIRE = 6
const ABSOLUTE = 8
const ANNOUNCE = EXPIRE - WARN

interface Sample {
  at: number
  open: boolean
  modal: boolean
  /** The absolute heading and text shown, with their countdown. */
  absoluteText: boolean
  /** The idle heading or text shown. */
  idleText: boolean
  /** The "Stay signed in" button shown. */
  stayButton: boolean
  /** The focus inside the dialog. */
  focusInside: boolean
  counter: string
  /** Whether the page had fired session-security:expire before this sample was read. */
  expiring: boolean
}

interface Watch {
  samples: Sample[]
  moves: number[]
  leftAt: number | undefined
  /** Whether the server session was alive past the idle end that the page load alone would have set. */
  aliveAfterIdleEnd: boolean | undefined
}

/** The dialog's state, read in the page. */
function readDialog (): Omit<Sample, 'at' | 'expiring'> {
  const dialog = document.getElementById('session_security_warning') as HTMLDialogElement | null
  const shown = (element: Element | null | undefined): boolean => element instanceof HTMLElement && !element.hidden
  return {
    open: dialog?.open === true,
    modal: dialog?.matches(':modal') === true,
    absoluteText: shown(document.getElementById('session_security_absolute_title')) && shown(document.getElementById('session_security_absolute_message')),
    idleText: shown(document.getElementById('session_security_title')) || shown(document.getElementById('session_security_message')),
    stayButton: shown(dialog?.querySelector('button')),
    focusInside: dialog?.contains(document.activeElement) === true,
    counter: document.getElementById('session_security_absolute_counter')?.textContent ?? ''
  }
}

test('the absolute end in the browser', async t => {
  const browser = await launchBrowser()
  t.teardown(() => browser.close())
  const [app] = await startClientApps(t, [{ warnAfter: WARN, expireAfter: EXPIRE, absoluteTimeout: ABSOLUTE }]) as [ClientApp]

  /** A fresh context signed in (the absolute end counts from about now); returns the time before the sign-in. */
  async function signIn (t: Test): Promise<{ context: BrowserContext, probe: Probe, since: number }> {
    const { context, probe } = await newContext(t, browser)
    const since = Date.now()
    await context.request.get(`${app.url}/login`)
    return { context, probe, since }
  }

  /** Opens the page; loadedAt is when it had loaded (the absolute end is at most ABSOLUTE s later: the sign-in counts from the first request that has it). */
  async function openPage (context: BrowserContext, name: string): Promise<{ page: Page, expiredHeaders: string[], loadedAt: number }> {
    const page = label(await context.newPage(), name)
    const expiredHeaders: string[] = []
    page.on('response', response => {
      const reason = response.headers()['session-expired']
      if (reason !== undefined) expiredHeaders.push(reason)
    })
    await page.goto(`${app.url}/page`)
    return { page, expiredHeaders, loadedAt: Date.now() }
  }

  /**
   * Samples the page every 100 ms until it leaves for returnToUrl (or ABSOLUTE + 4 s have passed),
   * moving the mouse every second from `moveFrom` (ms after `since`) on; once, past the idle end
   * that the page load alone would have set, asks whether the server session is alive.
   */
  async function watch (context: BrowserContext, page: Page, name: string, probe: Probe, since: number, moveFrom: number | ((samples: Sample[]) => boolean)): Promise<Watch> {
    const result: Watch = { samples: [], moves: [], leftAt: undefined, aliveAfterIdleEnd: undefined }
    const left = new AbortController()
    const leaving = page.waitForURL(`${app.url}/bye`, { timeout: (ABSOLUTE + 4) * 1000, waitUntil: 'commit' })
      .then(() => { result.leftAt = Date.now() }, () => {})
      .finally(() => { left.abort() })
    const expired = (): boolean => probe.events.some(event => event.type === 'expire' && event.page === name)
    const sampler = (async () => {
      while (!left.signal.aborted) {
        const at = Date.now()
        try {
          const state = await page.evaluate(readDialog)
          result.samples.push({ at, ...state, expiring: expired() })
        } catch {} // the page is leaving
        if (result.aliveAfterIdleEnd === undefined && !expired() && Date.now() - since > (EXPIRE + 0.8) * 1000) {
          result.aliveAfterIdleEnd = await app.signedIn(context)
        }
        await sleep(100)
      }
    })()
    const mover = (async () => {
      for (let x = 40; !left.signal.aborted; x = x === 40 ? 260 : 40) {
        const moving = typeof moveFrom === 'number' ? Date.now() - since >= moveFrom : moveFrom(result.samples)
        if (moving) {
          await page.mouse.move(x, 200, { steps: 4 }).catch(() => {})
          result.moves.push(Date.now())
          await Promise.race([sleep(1000), leaving])
        } else {
          await Promise.race([sleep(100), leaving])
        }
      }
    })()
    await Promise.all([leaving, sampler, mover])
    return result
  }

  t.test('an active user: the absolute warning, its own text, activity does not close it, the page leaves at the end', async t => {
    const { context, probe, since } = await signIn(t)
    const { page, expiredHeaders, loadedAt } = await openPage(context, 'A')
    const absoluteIn = Number(await page.getAttribute('script[data-ping-url]', 'data-absolute-in'))
    t.ok(absoluteIn >= ABSOLUTE - 1 && absoluteIn <= ABSOLUTE, `the page knows the absolute end: data-absolute-in="${absoluteIn}"`)

    const { samples, moves, leftAt, aliveAfterIdleEnd } = await watch(context, page, 'A', probe, since, 0)
    t.equal(aliveAfterIdleEnd, true, 'the mouse moves kept the session alive past the idle end that the page load alone would have set')
    t.ok(leftAt !== undefined, 'the page left for returnToUrl')
    if (leftAt === undefined) return
    t.ok(leftAt - since >= ABSOLUTE * 1000, `left ${leftAt - since} ms after the sign-in (absoluteTimeout ${ABSOLUTE} s), not before`)
    // The page rounds the seconds left up, and counts them from when its script ran.
    t.ok(leftAt - loadedAt <= ABSOLUTE * 1000 + 1500, `and ${leftAt - loadedAt} ms after the page had loaded: at the end`)
    t.equal(await app.signedIn(context), false, 'the server session is over')
    t.ok(expiredHeaders.includes('absolute'), `a response said Session-Expired: absolute (${expiredHeaders.join(', ') || 'none'})`)

    const firstOpen = samples.find(sample => sample.open)
    t.ok(firstOpen !== undefined, 'the warning opened')
    if (firstOpen === undefined) return
    const before = leftAt - firstOpen.at
    t.ok(before >= ANNOUNCE * 1000 - 500 && before <= ANNOUNCE * 1000 + 700, `it opened ${before} ms before the page left (expireAfter - warnAfter = ${ANNOUNCE} s)`)
    const shown = samples.filter(sample => sample.at >= firstOpen.at && !sample.expiring)
    t.ok(shown.length >= 15, `${shown.length} samples while it showed`)
    t.same(shown.filter(sample => !sample.open), [], 'it stayed open until the page expired')
    t.same(shown.filter(sample => !sample.absoluteText || sample.idleText), [], 'with the absolute heading and text, never the idle ones')
    t.same(shown.filter(sample => sample.stayButton || sample.modal || sample.focusInside), [], 'no "Stay signed in" button, not modal, no focus taken: the page stays usable to save work')
    const counters = [...new Set(shown.map(sample => sample.counter))]
    t.ok(counters.length >= 2 && counters[0]! > counters[counters.length - 1]!, `its countdown runs: ${counters.join(' ')}`)
    const movesWhileShown = moves.filter(at => at > firstOpen.at && at < leftAt)
    t.ok(movesWhileShown.length >= 2, `${movesWhileShown.length} real mouse moves while it showed`)
    const activity = probe.events.filter(event => event.type === 'activity' && event.at > firstOpen.at)
    t.ok(activity.length >= 1, `the client recorded them as activity (${activity.length} session-security:activity)`)

    const warned = probe.events.filter(event => event.type === 'warn')
    t.equal(warned.length, 1, 'session-security:warn fired once')
    t.match(warned[0]?.detail, { end: 'absolute', secondsLeft: Number }, 'its detail says which end it announces')
    const secondsLeft = (warned[0]?.detail as { secondsLeft?: number } | undefined)?.secondsLeft ?? -1
    t.ok(secondsLeft >= ANNOUNCE - 1 && secondsLeft <= ANNOUNCE, `secondsLeft: ${secondsLeft}`)
    t.same(probe.violations, [], 'no CSP violation')
  })

  t.test('the idle end first: the idle warning as before; activity answers it, and the absolute warning opens in its time', async t => {
    const { context, probe, since } = await signIn(t)
    const { page, loadedAt } = await openPage(context, 'B')
    // Nobody moves until the idle warning opens (warnAfter after the load, idle end before the absolute one).
    const { samples, leftAt } = await watch(context, page, 'B', probe, since, samples => samples.some(sample => sample.open))

    const idleWarning = samples.filter(sample => sample.open && sample.idleText)
    t.ok(idleWarning.length > 0, 'the idle warning opened')
    t.same(idleWarning.filter(sample => sample.absoluteText || !sample.stayButton || !sample.modal), [], 'as before: modal, with the idle text and the "Stay signed in" button')
    const firstAbsolute = samples.find(sample => sample.open && sample.absoluteText)
    t.ok(firstAbsolute !== undefined, 'then the absolute warning opened')
    t.ok(firstAbsolute !== undefined && firstAbsolute.at > idleWarning[idleWarning.length - 1]!.at, 'after the idle one')
    const between = samples.filter(sample => sample.at > idleWarning[idleWarning.length - 1]!.at && sample.at < (firstAbsolute?.at ?? 0))
    t.ok(between.length > 0 && between.every(sample => !sample.open), 'the activity closed the idle warning; nothing showed until the absolute warning\'s time')
    t.same(probe.events.filter(event => event.type === 'warn').map(event => (event.detail as { end?: string }).end), ['idle', 'absolute'], 'session-security:warn: idle, then absolute')
    t.ok(leftAt !== undefined, 'the page left at the absolute end')
    if (leftAt !== undefined) {
      t.ok(leftAt - since >= ABSOLUTE * 1000 && leftAt - loadedAt <= ABSOLUTE * 1000 + 1500, `${leftAt - since} ms after the sign-in, ${leftAt - loadedAt} ms after the page had loaded`)
    }
    t.equal(await app.signedIn(context), false, 'the server session is over')
  })

  t.test('two tabs of one sign-in announce the absolute end and leave together', async t => {
    const { context, probe, since } = await signIn(t)
    const { page: a, loadedAt } = await openPage(context, 'C')
    await sleep(1500)
    const { page: b } = await openPage(context, 'D')
    // The user works in the first tab only; the second hears of it through the tab channel.
    const left: Record<string, number> = {}
    const [watchA, , violations] = await Promise.all([
      watch(context, a, 'C', probe, since, 0),
      b.waitForURL(`${app.url}/bye`, { timeout: (ABSOLUTE + 4) * 1000, waitUntil: 'commit' }).then(() => { left.D = Date.now() }, () => {}),
      // The second tab, while the absolute warning shows there: axe-core on the dialog.
      b.waitForSelector(WARNING_OPEN, { timeout: (ABSOLUTE + 2) * 1000 }).then(() => axeViolations(b, WARNING))
    ])
    t.same(violations, [], 'axe-core finds no violation in the absolute warning')
    if (watchA.leftAt !== undefined) left.C = watchA.leftAt
    const warned = probe.events.filter(event => event.type === 'warn')
    t.same(warned.map(event => `${event.page}:${(event.detail as { end?: string }).end}`).sort(), ['C:absolute', 'D:absolute'], 'both tabs announced the absolute end')
    if (warned.length === 2) t.ok(Math.abs(warned[0]!.at - warned[1]!.at) < 1700, `together (${Math.abs(warned[0]!.at - warned[1]!.at)} ms apart)`)
    t.ok(left.C !== undefined && left.D !== undefined, 'both tabs left')
    if (left.C !== undefined && left.D !== undefined) {
      t.ok(Math.abs(left.C - left.D) < 1000, `together (${Math.abs(left.C - left.D)} ms apart)`)
      const first = Math.min(left.C, left.D)
      t.ok(first - since >= ABSOLUTE * 1000 && first - loadedAt <= ABSOLUTE * 1000 + 1500, `at the absolute end (${first - since} ms after the sign-in, ${first - loadedAt} ms after the first tab had loaded)`)
    }
    t.equal(await app.signedIn(context), false, 'the server session is over')
  })
})
