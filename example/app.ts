// The demo application: a sign-in form, a dashboard with sensitive-looking data, a form to test
// unsaved changes, a passive polling widget and a sign-out button, all under a strict CSP
// (`default-src 'self'`, no inline script or style). It is the README's recommended setup:
// SessionSecurityStore on an ioredis client configured for faults (./redis.ts), sign-in and
// sign-out by POST with CSRF tokens, a sign-out that deletes the session and clears its cookie.
// Built by buildDemo() so that the browser tests drive the very same application;
// example/server.ts runs it.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fastifyCookie from '@fastify/cookie'
import fastifyCsrfProtection from '@fastify/csrf-protection'
import fastifyFormbody from '@fastify/formbody'
import fastifySession from '@fastify/session'
import fastifyStatic from '@fastify/static'
import Fastify, {
  type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions
} from 'fastify'
import type { Cluster, Redis } from 'ioredis'
import sessionSecurity from '../index.js'
import { SessionSecurityStore } from '../lib/store.js'

/** The session cookie's name and path, which sign-out clears. */
export const SESSION_COOKIE = 'sessionId'
const SESSION_COOKIE_PATH = '/'
/** Where the demo's sessions live in Redis. */
export const SESSION_PREFIX = 'fss-demo:'

export interface DemoOptions {
  /** Seconds of inactivity before the warning. */
  warnAfter: number
  /** Seconds of inactivity before logout. */
  expireAfter: number
  /** An ioredis client, made as ./redis.ts makes it; omitted: @fastify/session's in-memory store. */
  redis?: Redis | Cluster
  /** Accepted for any user name. */
  password?: string
  secret?: string
  logger?: FastifyServerOptions['logger']
  /** Shown in the footer, e.g. "Redis at redis://127.0.0.1:6379". */
  storeLabel?: string
}

interface DemoUser {
  name: string
  since: string
}

// What the demo keeps in the session. `user` is the field that the plugin's default
// isAuthenticated looks at. (No module augmentation: the benchmarks declare their own `user`.)
interface DemoSession {
  user?: DemoUser
  notes?: string
}
const data = (request: FastifyRequest): DemoSession => request.session as unknown as DemoSession

/** A field of a form body: a string, or '' when it is missing or repeated. */
function field (request: FastifyRequest, name: string): string {
  const value = (request.body as Record<string, unknown> | undefined)?.[name]
  return typeof value === 'string' ? value : ''
}

const CSP = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"

// The page script and stylesheet: example/public, seen from example/ (tests) or from
// .demo-build/example/ (`npm run demo`), which holds only the compiled TypeScript.
const here = dirname(fileURLToPath(import.meta.url))
const publicDir = existsSync(join(here, 'public')) ? join(here, 'public') : join(here, '..', '..', 'example', 'public')
const ASSETS = '/demo-assets/'

function escapeHtml (value: string): string {
  return value.replace(/[&<>"']/g, char => `&#${char.charCodeAt(0)};`)
}

/** A tiny HTML template tag: interpolated values are escaped unless wrapped in raw(). */
class Raw {
  constructor (readonly html: string) {}
}
const raw = (html: string): Raw => new Raw(html)
function html (strings: TemplateStringsArray, ...values: unknown[]): Raw {
  let out = strings[0]
  values.forEach((value, i) => {
    out += (value instanceof Raw ? value.html : escapeHtml(String(value ?? ''))) + strings[i + 1]
  })
  return raw(out)
}

/** The hidden field that carries the session's CSRF token in a form. */
function csrfField (reply: FastifyReply): Raw {
  return html`<input type="hidden" name="_csrf" value="${reply.generateCsrf()}">`
}

const isCsrfError = (error: FastifyError): boolean => error.code === 'FST_CSRF_INVALID_TOKEN' || error.code === 'FST_CSRF_MISSING_SECRET'

export async function buildDemo (options: DemoOptions): Promise<FastifyInstance> {
  const { warnAfter, expireAfter, password = 'demo', storeLabel = 'in-memory store' } = options
  const app = Fastify({ logger: options.logger ?? false })

  // Set first, so that it also answers for the routes of the plugins registered below (the ping).
  app.setErrorHandler(function demoErrorHandler (error: FastifyError, request, reply) {
    if (isCsrfError(error)) {
      reply.code(403)
      // A sign-in form left open past the session's lifetime lost its token: show a fresh one.
      if (request.routeOptions.url === '/login') {
        return loginPage(request, reply, html`<p class="notice error" role="alert">The sign-in form was out of date. Please sign in again.</p>`)
      }
      return page(request, reply, 'Out of date', html`<p class="notice error" role="alert">This form was out of date or did not come from this site, so nothing was done.</p>
<p><a href="/">Back</a></p>`)
    }
    const status = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500
    // No page and no snippet: the session itself may be what failed (Redis down or hanging).
    // The visitor sees no detail of the failure; the log has it.
    if (status >= 500) request.log.error({ err: error }, 'request failed')
    const message = status >= 500 ? 'The service is unavailable. Please try again in a moment.' : 'This request could not be handled.'
    return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store')
      .send(htmlDocument('Error', html`<span>Demo bank</span>`, html`<p class="notice error" role="alert">${message}</p>`))
  })

  await app.register(fastifyFormbody)
  await app.register(fastifyCookie)
  await app.register(fastifySession, {
    secret: options.secret ?? 'demo-secret-change-me-it-must-be-32-chars-or-more',
    cookieName: SESSION_COOKIE,
    // Omitted: @fastify/session's in-memory store, so that the demo runs without Redis.
    store: options.redis === undefined ? undefined : new SessionSecurityStore({ client: options.redis, prefix: SESSION_PREFIX }),
    rolling: false,
    saveUninitialized: false,
    // No maxAge: the cookie dies with the browser (the plugin refuses a persistent one).
    cookie: { path: SESSION_COOKIE_PATH, secure: 'auto', httpOnly: true, sameSite: 'lax' }
  })
  // Tokens tied to the session: its secret is kept in the session and changes at sign-in,
  // when session.regenerate() gives the session a new id and nothing of the old one.
  await app.register(fastifyCsrfProtection, { sessionPlugin: '@fastify/session' })
  await app.register(sessionSecurity, {
    warnAfter,
    expireAfter,
    returnToUrl: '/login?expired=1',
    // The clock widget polls; polling is not the user, so it must not keep the session alive.
    passiveUrlNames: ['server-time']
  })

  // The page's own script and stylesheet. Fetching them is not the user's activity either.
  await app.register(async function demoAssets (assets) {
    assets.addHook('onRoute', function markPassive (route) {
      route.config = { ...route.config, sessionSecurity: { passive: true } }
    })
    await assets.register(fastifyStatic, { root: publicDir, prefix: ASSETS, decorateReply: false })
  })

  app.addHook('onSend', async (_request, reply) => {
    reply.header('content-security-policy', CSP)
    reply.header('x-content-type-options', 'nosniff')
    reply.header('referrer-policy', 'same-origin')
  })

  function htmlDocument (title: string, header: Raw, body: Raw, snippet = ''): string {
    return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · fastify-session-security demo</title>
<link rel="stylesheet" href="${ASSETS}demo.css">
<script src="${ASSETS}demo.js" defer></script>
</head>
<body>
<header>${header}</header>
<main>
<h1>${title}</h1>
${body}
</main>
<footer>Warning after ${warnAfter} s without activity, sign-out after ${expireAfter} s. Sessions: ${storeLabel}.</footer>
${raw(snippet)}
</body>
</html>
`.html
  }

  function page (request: FastifyRequest, reply: FastifyReply, title: string, body: Raw): string {
    // Every page carries the user's data or a CSRF token of the session, the sign-in page too
    // (it renders no snippet): none may be kept by a cache and shown again after sign-out.
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store')
    const user = data(request).user
    const header = user === undefined
      ? html`<span>Demo bank</span>`
      : html`<span>Demo bank · signed in as <strong>${user.name}</strong></span>
        <nav><a href="/dashboard">Dashboard</a> · <a href="/statements">Statements</a> ·
        <form method="post" action="/logout" class="sign-out">${csrfField(reply)}<button type="submit" id="logout">Sign out</button></form></nav>`
    return htmlDocument(title, header, body, app.sessionSecurity.snippet(request))
  }

  function loginPage (request: FastifyRequest, reply: FastifyReply, notice: Raw): string {
    return page(request, reply, 'Sign in', html`${notice}
<section>
<form method="post" action="/login">
${csrfField(reply)}
<label for="username">User name (any)</label>
<input id="username" name="username" autocomplete="username" required>
<label for="password">Password (<code>${password}</code>)</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
</section>`)
  }

  function requireUser (request: FastifyRequest, reply: FastifyReply): DemoUser | undefined {
    const user = data(request).user
    if (user === undefined) reply.redirect('/login')
    return user
  }

  app.get('/', async (request, reply) => reply.redirect(data(request).user === undefined ? '/login' : '/dashboard'))

  app.get('/login', async (request, reply) => {
    if (data(request).user !== undefined) return reply.redirect('/dashboard')
    const { expired, failed, bye } = request.query as Record<string, string | undefined>
    const notice = expired !== undefined
      ? html`<p class="notice" id="expired-notice">You were signed out after ${expireAfter} seconds without activity.</p>`
      : bye !== undefined ? html`<p class="notice">You are signed out.</p>` : html``
    const error = failed !== undefined ? html`<p class="notice error" role="alert">Wrong password: it is <code>${password}</code> in this demo.</p>` : html``
    return loginPage(request, reply, html`${notice}${error}`)
  })

  app.post('/login', { preHandler: app.csrfProtection }, async (request, reply) => {
    const username = field(request, 'username').trim()
    if (field(request, 'password') !== password || username === '') return reply.redirect('/login?failed=1', 303)
    // A new session id at sign-in: a session fixed before sign-in is worth nothing.
    await request.session.regenerate()
    data(request).user = { name: username.slice(0, 40), since: new Date().toISOString() }
    return reply.redirect('/dashboard', 303)
  })

  // A sign-out that another site could trigger would be an annoyance, so it takes the token. A
  // visitor whose session has already ended has nothing to protect and no valid token left.
  function csrfWhenSignedIn (request: FastifyRequest, reply: FastifyReply, done: () => void): void {
    if (data(request).user === undefined) done()
    else app.csrfProtection(request, reply, done)
  }

  app.post('/logout', { preHandler: csrfWhenSignedIn }, async (request, reply) => {
    // Deletes the session from the store; @fastify/session then sends no cookie at all, so the
    // browser's copy is cleared here (same name and path, or the browser keeps it).
    await request.session.destroy()
    reply.clearCookie(SESSION_COOKIE, { path: SESSION_COOKIE_PATH })
    return reply.redirect('/login?bye=1', 303)
  })

  app.get('/dashboard', async (request, reply) => {
    const user = requireUser(request, reply)
    if (user === undefined) return reply
    const { saved } = request.query as Record<string, string | undefined>
    return page(request, reply, 'Dashboard', html`
<section>
<h2>Accounts</h2>
<table id="accounts">
<thead><tr><th>Account</th><th>IBAN</th><th>Balance</th></tr></thead>
<tbody>
<tr><td>Current account</td><td>DE89 3704 0044 0532 0130 00</td><td class="amount">€ 12,480.17</td></tr>
<tr><td>Savings</td><td>DE02 1203 0000 0000 2020 51</td><td class="amount">€ 58,902.64</td></tr>
<tr><td>Credit card</td><td>•••• •••• •••• 4242</td><td class="amount">€ -1,204.90</td></tr>
</tbody>
</table>
</section>
<section>
<h2>Notes</h2>
${saved !== undefined ? html`<p class="notice" role="status">Notes saved.</p>` : html``}
<p>Type something and leave the page without saving: the browser asks first. An expiry leaves without asking.</p>
<form method="post" action="/notes" id="notes-form">
${csrfField(reply)}
<label for="notes">Private notes</label>
<textarea id="notes" name="notes" rows="4">${data(request).notes ?? ''}</textarea>
<button type="submit">Save notes</button>
</form>
</section>
<section>
<h2>Server clock</h2>
<p>Polled every 3 seconds from a passive route: it never counts as activity. <strong>Server time: <span id="server-clock">…</span></strong></p>
</section>
<section>
<h2>Events</h2>
<p>What the page hears from the client (<code>session-security:warn</code>, <code>:activity</code>, <code>:expire</code>):</p>
<ul id="event-log"></ul>
</section>`)
  })

  app.post('/notes', { preHandler: app.csrfProtection }, async (request, reply) => {
    const user = requireUser(request, reply)
    if (user === undefined) return reply
    data(request).notes = field(request, 'notes').slice(0, 2000)
    return reply.redirect('/dashboard?saved=1', 303)
  })

  app.get('/statements', async (request, reply) => {
    const user = requireUser(request, reply)
    if (user === undefined) return reply
    return page(request, reply, 'Statements', html`
<section>
<table>
<thead><tr><th>Date</th><th>Description</th><th>Amount</th></tr></thead>
<tbody>
<tr><td>2026-11-20</td><td>Salary, ACME Corp.</td><td class="amount">€ 4,210.00</td></tr>
<tr><td>2026-11-18</td><td>Rent, November</td><td class="amount">€ -1,350.00</td></tr>
<tr><td>2026-11-15</td><td>Pharmacy</td><td class="amount">€ -38.20</td></tr>
</tbody>
</table>
</section>`)
  })

  // The polling widget's route: named, and listed in passiveUrlNames above.
  app.get('/api/server-time', { config: { name: 'server-time' } }, async (request, reply) => {
    if (data(request).user === undefined) return reply.code(401).send({ error: 'signed out' })
    return { time: new Date().toISOString().slice(11, 19) + ' UTC' }
  })

  return app
}
