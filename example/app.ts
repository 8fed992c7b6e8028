// The demo application: a login form, a dashboard with sensitive-looking data, a form to test
// unsaved changes, a passive polling widget and a logout link, all under a strict CSP
// (`default-src 'self'`, no inline script or style). Built by buildDemo() so that the browser
// tests drive the very same application; example/server.ts runs it.
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import sessionSecurity from '../index.js'

export interface DemoOptions {
  /** Seconds of inactivity before the warning. */
  warnAfter: number
  /** Seconds of inactivity before logout. */
  expireAfter: number
  /** An @fastify/session store; omitted: @fastify/session's in-memory store. */
  store?: unknown
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

const CSP = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"

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

// The page's own script: the polling widget and an event log. Served as a file, never inline.
const DEMO_JS = `// Demo page script: a passive polling widget and a log of session-security events.
const clock = document.getElementById('server-clock')
async function poll () {
  try {
    const response = await fetch('/api/server-time', { cache: 'no-store' })
    clock.textContent = response.ok ? (await response.json()).time : 'signed out (' + response.status + ')'
  } catch (err) {
    clock.textContent = 'unreachable'
  }
}
if (clock) {
  poll()
  setInterval(poll, 3000)
}
const log = document.getElementById('event-log')
for (const name of ['warn', 'activity', 'expire']) {
  document.addEventListener('session-security:' + name, event => {
    if (!log) return
    const item = document.createElement('li')
    item.textContent = new Date().toLocaleTimeString() + '  session-security:' + name + '  ' + JSON.stringify(event.detail || {})
    log.prepend(item)
    while (log.children.length > 8) log.lastChild.remove()
  })
}
`

const DEMO_CSS = `body { font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #1b1b1f; background: #f4f5f7; }
header { display: flex; justify-content: space-between; align-items: center; padding: .75rem 1.5rem; background: #1b1b1f; color: #fff; }
header a { color: #cfe0ff; }
main { max-width: 60rem; margin: 1.5rem auto; padding: 0 1.5rem; }
section { background: #fff; border-radius: 8px; padding: 1rem 1.5rem; margin-bottom: 1rem; box-shadow: 0 1px 3px #0002; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #e3e5e8; }
td.amount { text-align: right; font-variant-numeric: tabular-nums; }
label { display: block; margin: .5rem 0 .25rem; }
input, textarea { font: inherit; padding: .4rem; width: 100%; max-width: 30rem; box-sizing: border-box; }
button { font: inherit; padding: .4rem 1rem; margin-top: .75rem; }
.notice { padding: .5rem 1rem; border-radius: 6px; background: #fff4d6; }
.error { background: #ffe0e0; }
footer { color: #555; font-size: .875rem; max-width: 60rem; margin: 0 auto 2rem; padding: 0 1.5rem; }
#event-log { font-family: ui-monospace, monospace; font-size: .8rem; }
`

export async function buildDemo (options: DemoOptions): Promise<FastifyInstance> {
  const { warnAfter, expireAfter, password = 'demo', storeLabel = 'in-memory store' } = options
  const app = Fastify({ logger: options.logger ?? false })

  // HTML forms post urlencoded bodies; Fastify parses only JSON by itself.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)))
  })

  await app.register(fastifyCookie)
  await app.register(fastifySession, {
    secret: options.secret ?? 'demo-secret-change-me-it-must-be-32-chars-or-more',
    store: options.store as never,
    rolling: false,
    saveUninitialized: false,
    // No maxAge: the cookie dies with the browser (the plugin refuses a persistent one).
    cookie: { secure: 'auto', httpOnly: true, sameSite: 'lax' }
  })
  await app.register(sessionSecurity, {
    warnAfter,
    expireAfter,
    returnToUrl: '/login?expired=1',
    // The clock widget polls; polling is not the user, so it must not keep the session alive.
    passiveUrlNames: ['server-time']
  })

  app.addHook('onSend', async (_request, reply) => {
    reply.header('content-security-policy', CSP)
    reply.header('x-content-type-options', 'nosniff')
    reply.header('referrer-policy', 'same-origin')
  })

  function page (request: FastifyRequest, reply: FastifyReply, title: string, body: Raw): string {
    // Authenticated pages must not come back from a cache after logout.
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store')
    const user = data(request).user
    const nav = user === undefined
      ? html`<span>Demo bank</span>`
      : html`<span>Demo bank · signed in as <strong>${user.name}</strong></span>
        <nav><a href="/dashboard">Dashboard</a> · <a href="/statements">Statements</a> · <a href="/logout" id="logout">Sign out</a></nav>`
    return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · fastify-session-security demo</title>
<link rel="stylesheet" href="/demo.css">
<script src="/demo.js" defer></script>
</head>
<body>
<header>${nav}</header>
<main>
<h1>${title}</h1>
${body}
</main>
<footer>Warning after ${warnAfter} s without activity, sign-out after ${expireAfter} s. Sessions: ${storeLabel}.</footer>
${raw(app.sessionSecurity.snippet(request))}
</body>
</html>
`.html
  }

  function requireUser (request: FastifyRequest, reply: FastifyReply): DemoUser | undefined {
    const user = data(request).user
    if (user === undefined) void reply.redirect('/login')
    return user
  }

  app.get('/demo.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(DEMO_JS))
  app.get('/demo.css', async (_request, reply) => reply.type('text/css; charset=utf-8').send(DEMO_CSS))

  app.get('/', async (request, reply) => reply.redirect(data(request).user === undefined ? '/login' : '/dashboard'))

  app.get('/login', async (request, reply) => {
    if (data(request).user !== undefined) return reply.redirect('/dashboard')
    const { expired, failed, bye } = request.query as Record<string, string | undefined>
    const notice = expired !== undefined
      ? html`<p class="notice" id="expired-notice">You were signed out after ${expireAfter} seconds without activity.</p>`
      : bye !== undefined ? html`<p class="notice">You are signed out.</p>` : html``
    const error = failed !== undefined ? html`<p class="notice error" role="alert">Wrong password: it is <code>${password}</code> in this demo.</p>` : html``
    return page(request, reply, 'Sign in', html`${notice}${error}
<section>
<form method="post" action="/login">
<label for="username">User name (any)</label>
<input id="username" name="username" autocomplete="username" required>
<label for="password">Password (<code>${password}</code>)</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
</section>`)
  })

  app.post('/login', async (request, reply) => {
    const { username = '', password: given = '' } = (request.body ?? {}) as Record<string, string | undefined>
    if (given !== password || username.trim() === '') return reply.redirect('/login?failed=1', 303)
    // A new session id at login: a session fixed before login is worth nothing.
    await request.session.regenerate()
    data(request).user = { name: username.trim().slice(0, 40), since: new Date().toISOString() }
    return reply.redirect('/dashboard', 303)
  })

  app.get('/logout', async (request, reply) => {
    await request.session.destroy()
    return reply.redirect('/login?bye=1')
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

  app.post('/notes', async (request, reply) => {
    const user = requireUser(request, reply)
    if (user === undefined) return reply
    const { notes = '' } = (request.body ?? {}) as Record<string, string | undefined>
    data(request).notes = notes.slice(0, 2000)
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
