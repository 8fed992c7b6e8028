// Small applications for the browser client's own tests, apart from the demo: a signed-in page
// with data, the snippet and a long list to scroll; the same page kept by the HTTP cache for ten
// minutes (a route that sets its own Cache-Control); a sign-out by POST. Several applications can
// share one origin, each under its own path with its own session cookie, as two applications on
// one host do. Sessions live on a private Redis. Also: a page on another site, and a probe that
// reports every frame in which the page's data is visible.
import { createServer, type Server } from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import { RedisStore } from 'connect-redis'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { Browser, BrowserContext } from 'playwright-core'
import sessionSecurity from '../../index.js'
import { SECRET } from './app.js'
import { launchBrowser } from './browser.js'
import { startRedis } from './redis.js'

type Teardown = { teardown: (fn: () => unknown) => void }

export const DATA_TEXT = 'Balance € 12,480.17'

export interface ClientAppOptions {
  /** '' for an application at the root, or a path such as '/a'. */
  prefix?: string
  warnAfter: number
  expireAfter: number
  /** The plugin's absoluteTimeout (seconds); its default (12 h) when not given. */
  absoluteTimeout?: number | false
}

export interface ClientApp {
  /** The origin and prefix: `${url}/page` is the page. */
  url: string
  prefix: string
  /** Whether the browser context's cookie still names a live session (asked on a passive route, so asking never counts as activity). */
  signedIn (context: BrowserContext): Promise<boolean>
}

/** One application, ready but not listening: serve it with serveApps(). */
async function buildClientApp (store: fastifySession.SessionStore, { prefix = '', warnAfter, expireAfter, absoluteTimeout }: ClientAppOptions): Promise<FastifyInstance> {
  const app = Fastify()
  // The sign-out form posts an empty urlencoded body.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, _body, done) => { done(null, {}) })
  await app.register(fastifyCookie)
  await app.register(fastifySession, {
    secret: SECRET,
    store,
    cookieName: `session${prefix.replace(/\W/g, '_')}`,
    rolling: false,
    saveUninitialized: false,
    cookie: { secure: 'auto', path: prefix === '' ? '/' : prefix }
  })
  await app.register(sessionSecurity, {
    warnAfter,
    expireAfter,
    ...(absoluteTimeout === undefined ? {} : { absoluteTimeout }),
    routePrefix: `${prefix}/session_security`,
    returnToUrl: `${prefix}/bye`
  })

  const signedIn = (request: FastifyRequest): boolean => request.session.get('user') !== undefined
  function page (request: FastifyRequest, reply: FastifyReply): string {
    reply.type('text/html; charset=utf-8')
    if (!signedIn(request)) return '<!doctype html><title>signed out</title><p id="signed-out">Signed out</p>'
    const lines = Array.from({ length: 80 }, (_, i) => `<li id="line-${i}">line ${i}</li>`).join('')
    return '<!doctype html><html><head><meta charset="utf-8"><title>account</title></head><body>' +
      `<h1>Account</h1><p id="data">${DATA_TEXT}</p>` +
      `<form method="post" action="${prefix}/signout"><button id="signout">Sign out</button></form>` +
      `<ol id="feed">${lines}</ol>` +
      app.sessionSecurity.snippet(request) +
      '</body></html>'
  }

  app.get(`${prefix}/login`, async request => {
    request.session.set('user', { id: 1, name: 'ann' })
    return { signedIn: true }
  })
  app.get(`${prefix}/page`, async (request, reply) => page(request, reply))
  // A route that lets the HTTP cache keep the page: Back may show it without asking the server.
  app.get(`${prefix}/cached-page`, async (request, reply) => {
    reply.header('cache-control', 'private, max-age=600')
    return page(request, reply)
  })
  app.post(`${prefix}/signout`, async (request, reply) => {
    await request.session.destroy()
    return reply.redirect(`${prefix}/bye`, 303)
  })
  app.get(`${prefix}/bye`, async (_request, reply) => reply.type('text/html; charset=utf-8').send('<!doctype html><title>bye</title><p id="bye">Signed out</p>'))
  app.get(`${prefix}/signed-in`, { config: { sessionSecurity: { passive: true } } }, async request => ({ signedIn: signedIn(request) }))
  await app.ready()
  return app
}

/**
 * Applications on one private Redis, served from one origin (each by its path prefix), all
 * closed when the test ends.
 */
export async function startClientApps (t: Teardown, options: ClientAppOptions[]): Promise<ClientApp[]> {
  const redis = await startRedis()
  t.teardown(() => redis.stop())
  const client = redis.client()
  const apps = await Promise.all(options.map(async (option, i) => ({
    prefix: option.prefix ?? '',
    app: await buildClientApp(new RedisStore({ client, prefix: `app${i}:` }), option)
  })))
  // Longest prefix first, so '' takes what no other application claims.
  const byPrefix = [...apps].sort((a, b) => b.prefix.length - a.prefix.length)
  const server = createServer((request, response) => {
    const owner = byPrefix.find(({ prefix }) => request.url === prefix || request.url?.startsWith(`${prefix}/`)) ?? byPrefix[byPrefix.length - 1]
    owner.app.routing(request, response)
  })
  const origin = await listen(t, server, '127.0.0.1')
  t.teardown(() => Promise.all(apps.map(({ app }) => app.close())))
  return apps.map(({ prefix }) => ({
    url: origin + prefix,
    prefix,
    async signedIn (context) {
      const response = await context.request.get(`${origin}${prefix}/signed-in`)
      return (await response.json()).signedIn === true
    }
  }))
}

/** Starts a server on a free port of host, closed when the test ends; resolves to its origin. */
export async function listen (t: Teardown, server: Server, host: string): Promise<string> {
  // Playwright's request context reuses its connections and does not retry a request that meets
  // a connection the server is closing, as a browser does: with Node's default 5 s keep-alive, a
  // check about 5 s after the sign-in met ECONNRESET under load. Keep idle connections open.
  server.keepAliveTimeout = 120_000
  server.listen(0, host)
  await once(server, 'listening')
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise(resolve => server.close(resolve))
  })
  return `http://${host}:${(server.address() as AddressInfo).port}`
}

/** A page on another site (another loopback address, so another origin and another site). */
export async function startOtherSite (t: Teardown, html: string): Promise<string> {
  const server = createServer((_request, response) => {
    response.setHeader('content-type', 'text/html; charset=utf-8')
    response.end(html)
  })
  return listen(t, server, '127.0.0.2')
}

/** Chromium with the back-forward cache on or off, closed when the test ends. */
export async function launchChromium (t: Teardown, { backForwardCache = false } = {}): Promise<Browser> {
  const browser = await launchBrowser({ backForwardCache })
  t.teardown(() => browser.close())
  return browser
}

export interface FrameLog {
  /** Times (test clock) of the frames in which an element with id "data" was visible. */
  visible: number[]
  /** pageshow events: whether each came from the back-forward cache, and the navigation type. */
  shows: Array<{ at: number, persisted: boolean, navigation: string }>
}

/**
 * Reports, before each frame is painted (requestAnimationFrame runs just before), whether the
 * page's data would be painted; and each pageshow. Installed before any page script runs.
 */
export async function watchFrames (context: BrowserContext): Promise<FrameLog> {
  const log: FrameLog = { visible: [], shows: [] }
  await context.exposeBinding('__frames', (_source, kind: string, persisted: boolean, navigation: string) => {
    if (kind === 'visible') log.visible.push(Date.now())
    else log.shows.push({ at: Date.now(), persisted, navigation })
  })
  await context.addInitScript(() => {
    const report = (window as unknown as { __frames: (kind: string, persisted?: boolean, navigation?: string) => Promise<void> }).__frames
    addEventListener('pageshow', event => {
      const entry = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined
      report('show', event.persisted, entry?.type ?? '').catch(() => {})
    })
    function frame (): void {
      const data = document.getElementById('data')
      if (data !== null && getComputedStyle(data).visibility === 'visible' && data.getClientRects().length > 0) report('visible').catch(() => {})
      requestAnimationFrame(frame)
    }
    requestAnimationFrame(frame)
  })
  return log
}
