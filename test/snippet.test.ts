// The page snippet (README "Browser client" › "The snippet"): empty for anonymous requests (and for a request that the hook
// has just logged out), everything written into HTML escaped, nonce, locale, data attributes.
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import Fastify, { type FastifyRequest } from 'fastify'
import { test } from 'tap'
import sessionSecurity from '../index.js'
import { buildSettings } from '../lib/options.js'
import { createSnippet, escapeHtml, formatCountdown } from '../lib/snippet.js'
import { SharedClock } from '../lib/clock.js'
import { signedIn, signedOut } from '../lib/state.js'

const clock = new SharedClock()

/** A request as the hook leaves it: signed in with `expireAfter` (undefined: anonymous, 0: just logged out). */
function fakeRequest (expireAfter: number | undefined, headers: Record<string, string | string[]> = {}, lastActivity = Date.now(), absoluteEnd = Infinity): FastifyRequest {
  const request = { headers } as unknown as FastifyRequest
  if (expireAfter === 0) signedOut(request, 'idle', 11, true)
  else if (expireAfter !== undefined) signedIn(request, 'a-session-id', expireAfter, lastActivity, absoluteEnd)
  return request
}

/** The value of one attribute in an HTML string, unescaped for comparison. */
function attribute (html: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}="([^"]*)"`).exec(html)
  return match?.[1]
    .replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')
}

test('escapeHtml and formatCountdown', async t => {
  t.equal(escapeHtml('<a href="x" title=\'y\'>&amp;</a>'), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;')
  t.equal(escapeHtml('plain text'), 'plain text')
  t.equal(formatCountdown(60), '1:00')
  t.equal(formatCountdown(59), '0:59')
  t.equal(formatCountdown(605), '10:05')
  t.equal(formatCountdown(0.2), '0:01', 'rounds up: never shows 0:00 while time is left')
  t.equal(formatCountdown(-3), '0:00')
})

test('empty for anonymous requests', async t => {
  const snippet = createSnippet(buildSettings({}), '1.2.3', clock)
  t.equal(snippet(fakeRequest(undefined)), '', 'the hook did not see a user')
  t.equal(snippet(fakeRequest(0)), '', 'logged out by this request')
})

test('authenticated: stylesheet, dialog and script with its settings', async t => {
  const settings = buildSettings({ expireAfter: 600 })
  const html = createSnippet(settings, '1.2.3', clock)(fakeRequest(600))
  t.match(html, /^<link rel="stylesheet" href="\/session_security\/static\/session-security\.css\?v=1\.2\.3">/)
  t.match(html, /<script src="\/session_security\/static\/session-security\.js\?v=1\.2\.3" defer /)
  t.match(html, /<\/script>$/)
  t.match(html, /<dialog id="session_security_warning" [^>]*role="alertdialog"[^>]*aria-modal="true"/)
  t.match(html, /aria-labelledby="session_security_title"/)
  t.match(html, /<h2 id="session_security_title">Are you still there\?<\/h2>/)
  t.match(html, /aria-describedby="session_security_message"/)
  t.match(html, /<span id="session_security_counter">1:00<\/span>/, 'countdown starts at expireAfter - warnAfter')
  t.match(html, /aria-live="polite"/)
  t.match(html, /<button type="button" class="session-security-stay" autofocus>Stay signed in<\/button>/)
  t.equal(attribute(html, 'data-ping-url'), '/session_security/ping/')
  t.equal(attribute(html, 'data-warn-after'), '540', '90% of expireAfter')
  t.equal(attribute(html, 'data-expire-after'), '600')
  t.equal(attribute(html, 'data-return-to-url'), undefined, 'no returnToUrl: the page reloads')
  t.equal(attribute(html, 'data-confirm-form-discard'), 'Some changes have not been saved. Leave this page anyway?')
  t.equal(attribute(html, 'lang'), 'en')
  t.notMatch(html, /nonce/, 'no nonce unless asked')
  t.notMatch(html, /<script>/, 'no inline script')
  t.notMatch(html, /style=/, 'no inline style')
})

test('data-idle-for: the idle time the server counts when the page is rendered', async t => {
  const snippet = createSnippet(buildSettings({ expireAfter: 600 }), '1.2.3', clock)
  t.equal(attribute(snippet(fakeRequest(600, {}, Date.now() - 42_500)), 'data-idle-for'), '42', 'a load the server did not count')
  t.equal(attribute(snippet(fakeRequest(600, {}, Date.now())), 'data-idle-for'), '0', 'a load that was activity')
  t.equal(attribute(snippet(fakeRequest(600, {}, Date.now() + 5000)), 'data-idle-for'), '0', 'never negative')
  t.equal(attribute(snippet(fakeRequest(600)), 'data-idle-for'), '0', 'unknown: 0')
})

test('per-request expireAfter and an explicit warnAfter', async t => {
  const snippet = createSnippet(buildSettings({ warnAfter: 30, expireAfter: () => 45, routePrefix: '/sec' }), '0.1.0', clock)
  const html = snippet(fakeRequest(45))
  t.equal(attribute(html, 'data-warn-after'), '30')
  t.equal(attribute(html, 'data-expire-after'), '45')
  t.equal(attribute(html, 'data-ping-url'), '/sec/ping/')
  t.match(html, /href="\/sec\/static\/session-security\.css\?v=0\.1\.0"/)
  t.match(html, /<span id="session_security_counter">0:15<\/span>/)
})

test('everything written into HTML is escaped', async t => {
  const returnToUrl = '/login?next=/a&b="c"<d>\'e'
  const snippet = createSnippet(buildSettings({ returnToUrl }), '1.0.0-"><script>alert(1)</script>', clock)
  const nonce = '"><script>alert(2)</script>'
  const html = snippet(fakeRequest(600), { nonce })
  t.notMatch(html, /<script>alert/, 'nothing breaks out of an attribute')
  t.notMatch(html, /="[^"]*"[^\s>/]/, 'every attribute value ends at its own quote')
  t.equal(attribute(html, 'data-return-to-url'), returnToUrl)
  t.match(html, /data-return-to-url="\/login\?next=\/a&amp;b=&quot;c&quot;&lt;d&gt;&#39;e"/)
  t.equal(attribute(html, 'nonce'), nonce)
  t.match(html, /\?v=1\.0\.0-%22%3E%3Cscript%3Ealert\(1\)%3C%2Fscript%3E"/, 'the version is URL-encoded, then HTML-escaped')
  t.equal((html.match(/ nonce="/g) ?? []).length, 2, 'nonce on the stylesheet and the script')

  const french = snippet(fakeRequest(600), { locale: 'fr' })
  t.match(french, /<h2 id="session_security_title">Êtes-vous toujours là \?<\/h2>/)
  t.match(french, /faute d&#39;activité/, 'an apostrophe in a translation is escaped too')
  t.equal(attribute(french, 'data-confirm-form-discard'), 'Certaines modifications ne sont pas enregistrées. Quitter la page quand même ?')
})

test('an empty nonce writes no attribute', async t => {
  const html = createSnippet(buildSettings({}), '1', clock)(fakeRequest(600), { nonce: '' })
  t.notMatch(html, /nonce/)
})

test('locale: option first, then Accept-Language, else English', async t => {
  const snippet = createSnippet(buildSettings({}), '1', clock)
  t.equal(attribute(snippet(fakeRequest(600, { 'accept-language': 'de-DE,de;q=0.9' })), 'lang'), 'de')
  t.equal(attribute(snippet(fakeRequest(600, { 'accept-language': ['ja', 'cs;q=0.5'] })), 'lang'), 'cs', 'repeated headers are read together')
  t.equal(attribute(snippet(fakeRequest(600, { 'accept-language': 'de' }), { locale: 'pt_BR' }), 'lang'), 'pt-BR', 'the option wins')
  t.equal(attribute(snippet(fakeRequest(600, { 'accept-language': 'de' }), { locale: 'xx' }), 'lang'), 'en', 'an unknown option is English, not the header')
  t.equal(attribute(snippet(fakeRequest(600, { 'accept-language': 'ja' })), 'lang'), 'en')
  const polish = snippet(fakeRequest(600), { locale: 'pl' })
  t.match(polish, /Kontynuuj sesję<\/button>/)
  t.match(polish, /wygaśnie za <span id="session_security_counter">1:00<\/span> z powodu/)
})

test('through the plugin: anonymous, logged in, logged out by this very request', async t => {
  const sessions = new Map<string, Record<string, unknown>>()
  const app = Fastify()
  await app.register(fastifyCookie)
  await app.register(fastifySession, {
    secret: 'a-test-secret-that-is-at-least-32-characters-long',
    store: new fastifySession.MemoryStore(sessions as never),
    rolling: false,
    saveUninitialized: false,
    cookie: { secure: 'auto' }
  })
  await app.register(sessionSecurity, { warnAfter: 5, expireAfter: 10, returnToUrl: '/login' })
  app.get('/login', async request => {
    request.session.set('user', { id: 1, name: 'ann' })
    return 'ok'
  })
  app.get('/page', async (request, reply) => {
    reply.type('text/html')
    return `<body>${app.sessionSecurity.snippet(request, { locale: 'es' })}</body>`
  })
  t.teardown(() => app.close())
  await app.ready()

  const anonymous = await app.inject('/page')
  t.equal(anonymous.body, '<body></body>', 'anonymous: empty')

  const login = await app.inject('/login')
  const cookie = login.cookies.map(c => `${c.name}=${c.value}`).join('; ')
  const page = await app.inject({ url: '/page', headers: { cookie } })
  t.match(page.body, /data-warn-after="5" data-expire-after="10" data-idle-for="0" data-absolute-in="(43200|43199)" data-return-to-url="\/login"/)
  t.equal(page.headers['cache-control'], 'no-store', 'a page that rendered the snippet is not stored (noStore)')
  t.equal(anonymous.headers['cache-control'], undefined, 'a page without the snippet is left alone')
  t.match(page.body, /lang="es"/)
  t.match(page.body, /Mantener la sesión/)

  // Age the stored activity past expireAfter: the hook logs the user out before the handler runs.
  t.equal(sessions.size, 1)
  for (const session of sessions.values()) session._session_security = new Date(Date.now() - 11_000).toISOString()
  const expired = await app.inject({ url: '/page', headers: { cookie } })
  t.equal(expired.body, '<body></body>', 'logged out by this request: empty')
  t.equal(expired.headers['session-expired'], 'idle')
})

test('noStore: off, or a route that sets its own Cache-Control', async t => {
  for (const noStore of [true, false]) {
    const app = Fastify()
    await app.register(fastifyCookie)
    await app.register(fastifySession, {
      secret: 'a-test-secret-that-is-at-least-32-characters-long',
      store: new fastifySession.MemoryStore(),
      saveUninitialized: false,
      cookie: { secure: 'auto' }
    })
    await app.register(sessionSecurity, { noStore })
    app.get('/login', async request => { request.session.set('user', { id: 1, name: 'ann' }); return 'ok' })
    app.get('/page', async request => app.sessionSecurity.snippet(request))
    app.get('/own', async (request, reply) => reply.header('cache-control', 'private, max-age=60').send(app.sessionSecurity.snippet(request)))
    t.teardown(() => app.close())
    const login = await app.inject('/login')
    const cookie = login.cookies.map(c => `${c.name}=${c.value}`).join('; ')
    const page = await app.inject({ url: '/page', headers: { cookie } })
    t.not(page.body, '', 'the snippet rendered')
    t.equal(page.headers['cache-control'], noStore ? 'no-store' : undefined, `noStore: ${noStore}`)
    const own = await app.inject({ url: '/own', headers: { cookie } })
    t.equal(own.headers['cache-control'], 'private, max-age=60', 'the route\'s own Cache-Control is kept')
  }
})

test('the absolute end: seconds left, and its own hidden heading and text; nothing when it is off', async t => {
  const snippet = createSnippet(buildSettings({ expireAfter: 600 }), '1', clock)
  const html = snippet(fakeRequest(600, { 'accept-language': 'de' }, Date.now(), clock.now() + 3_600_500))
  // Rounded up: the page must never leave before the server has ended the session.
  t.match(attribute(html, 'data-absolute-in'), /^3601$|^3600$/)
  t.match(html, /<h2 id="session_security_absolute_title" hidden>Zeitlimit der Sitzung<\/h2>/)
  t.match(html, /<p id="session_security_absolute_message" hidden>[^<]*<span id="session_security_absolute_counter">1:00<\/span>[^<]*Aktivität kann sie nicht verlängern/)
  const off = snippet(fakeRequest(600, {}, Date.now(), Infinity))
  t.equal(attribute(off, 'data-absolute-in'), undefined)
  t.notMatch(off, /session_security_absolute/)
})
