// End-to-end helpers: Debian's Chromium through playwright-core (never a downloaded browser), the
// demo application (the README's recommended setup: SessionSecurityStore on an ioredis client
// configured for faults) on a private Redis and a free loopback port, and small probes that the
// tests read: CSP violations, session-security events, ping requests.
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { chromium, type Browser, type BrowserContext, type Page, type Request } from 'playwright-core'
import { buildDemo } from '../../example/app.js'
import { connectRedis } from '../../example/redis.js'
import { startRedis, type RedisServer } from './redis.js'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const PING_PATH = '/session_security/ping/'

/**
 * Debian's Chromium, headless. The back-forward cache is off unless asked for (Playwright turns
 * it off by default, so that Back always loads the page again).
 */
export function launchBrowser ({ backForwardCache = false } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    ignoreDefaultArgs: backForwardCache ? ['--disable-back-forward-cache'] : []
  })
}

export interface Demo {
  url: string
  app: FastifyInstance
  redis: RedisServer
  close (): Promise<void>
}

/** The demo application with short timeouts, its sessions on a private Redis through the demo's own client. */
export async function startDemo (warnAfter: number, expireAfter: number): Promise<Demo> {
  const redis = await startRedis()
  const client = await connectRedis(redis.url, 5000)
  if (client === undefined) {
    await redis.stop()
    throw new Error('the demo could not reach the test Redis')
  }
  const app = await buildDemo({ warnAfter, expireAfter, redis: client, storeLabel: 'test Redis' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    redis,
    async close () {
      await app.close()
      client.disconnect()
      await redis.stop()
    }
  }
}

/** One browser and one demo application for a test file, both closed when the test ends. */
export async function startBrowserAndDemo (
  t: { teardown: (fn: () => Promise<void>) => void }, warnAfter: number, expireAfter: number
): Promise<{ browser: Browser, demo: Demo }> {
  const browser = await launchBrowser()
  const demo = await startDemo(warnAfter, expireAfter)
  t.teardown(async () => {
    await browser.close()
    await demo.close()
  })
  return { browser, demo }
}

export interface Probe {
  /** CSP violations reported by any page of the context. */
  violations: string[]
  /** session-security:* events, in order, with the page's own label, the time the test saw them and their detail. */
  events: Array<{ page: string, type: string, at: number, detail?: unknown }>
}

/**
 * A fresh context (its own cookies) with probes installed before any page script runs: the
 * securitypolicyviolation event and the client's events are reported to the test. Closed when
 * the test ends.
 */
export async function newContext (
  t: { teardown: (fn: () => Promise<void>) => void }, browser: Browser
): Promise<{ context: BrowserContext, probe: Probe }> {
  const context = await browser.newContext()
  t.teardown(() => context.close())
  const probe: Probe = { violations: [], events: [] }
  await context.exposeBinding('__probe', ({ page }, kind: string, detail: string, eventDetail?: string) => {
    if (kind === 'csp') probe.violations.push(detail)
    else probe.events.push({ page: labels.get(page) ?? '?', type: detail, at: Date.now(), detail: eventDetail === undefined ? undefined : JSON.parse(eventDetail) })
  })
  await context.addInitScript(() => {
    const report = (window as unknown as { __probe: (kind: string, detail: string, eventDetail?: string) => Promise<void> }).__probe
    document.addEventListener('securitypolicyviolation', event => {
      report('csp', `${event.violatedDirective} ${event.blockedURI}`).catch(() => {})
    })
    for (const type of ['warn', 'activity', 'expire']) {
      document.addEventListener(`session-security:${type}`, event => {
        report('event', type, JSON.stringify((event as CustomEvent).detail ?? null)).catch(() => {})
      })
    }
  })
  context.on('console', message => {
    if (/Content.Security.Policy/i.test(message.text())) probe.violations.push(message.text())
  })
  return { context, probe }
}

const labels = new WeakMap<Page, string>()
/** Names a page in probe.events. */
export function label (page: Page, name: string): Page {
  labels.set(page, name)
  return page
}

/** Signs in through the form with the keyboard only (no pointer over the page), lands on the dashboard. */
export async function login (page: Page, baseUrl: string, name = 'ann'): Promise<number> {
  await page.goto(`${baseUrl}/login`)
  await page.fill('#username', name)
  await page.fill('#password', 'demo')
  await Promise.all([
    page.waitForURL(`${baseUrl}/dashboard`),
    page.press('#password', 'Enter')
  ])
  return Date.now()
}

export interface PingLog {
  /** Every ping the page sent, with the time the test saw it. */
  sent: Array<{ at: number, url: string }>
  /** The status codes of the answers, in order (not with hold). Bodies are not kept: a page that
   *  navigates away at once (an expiry) may take its last answer's body with it. */
  statuses: number[]
  count (since?: number): number
}

/** Records the page's pings; with hold, they never reach the server (the page waits for an answer forever). */
export async function watchPings (page: Page, { hold = false } = {}): Promise<PingLog> {
  const sent: PingLog['sent'] = []
  const statuses: number[] = []
  const isPing = (request: Request): boolean => new URL(request.url()).pathname === PING_PATH
  if (hold) {
    await page.route(url => url.pathname === PING_PATH, () => {
      sent.push({ at: Date.now(), url: '(held)' })
    })
  } else {
    page.on('request', request => {
      if (isPing(request)) sent.push({ at: Date.now(), url: request.url() })
    })
    page.on('response', response => {
      if (isPing(response.request())) statuses.push(response.status())
    })
  }
  return { sent, statuses, count: (since = 0) => sent.filter(ping => ping.at >= since).length }
}

export const WARNING = 'dialog#session_security_warning'
export const WARNING_OPEN = `${WARNING}[open]`

/** Whether the warning dialog is open now. */
export function warningOpen (page: Page): Promise<boolean> {
  return page.evaluate(() => (document.getElementById('session_security_warning') as HTMLDialogElement | null)?.open === true)
}

const require = createRequire(import.meta.url)
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')

export interface AxeViolation { id: string, impact: string, help: string, nodes: unknown[] }

/** axe-core's violations inside one element. Evaluated through the DevTools protocol, so the page's CSP does not block it. */
export async function axeViolations (page: Page, selector: string): Promise<AxeViolation[]> {
  await page.evaluate(axeSource)
  return page.evaluate(async (selector: string) => {
    const axe = (window as unknown as { axe: { run: (context: unknown, options: unknown) => Promise<{ violations: AxeViolation[] }> } }).axe
    const result = await axe.run({ include: [selector] }, { resultTypes: ['violations'] })
    return result.violations.map(({ id, impact, help, nodes }) => ({ id, impact, help, nodes }))
  }, selector)
}

export const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))
