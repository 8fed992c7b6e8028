// What must and must not compile for users (checked by `npm run typecheck`, which runs before
// tap), plus the runtime shape of the exports.
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import Fastify, { type FastifyRequest } from 'fastify'
import { test } from 'tap'
import sessionSecurity, {
  InvalidOptionError,
  PersistentCookieError,
  type ExpireInfo,
  type SessionSecurityOptions
} from '../index.js'

const good: SessionSecurityOptions = {
  warnAfter: 540,
  expireAfter: (request: FastifyRequest) => request.session._session_security === undefined ? 600 : 300,
  passiveUrls: ['/health', /^\/api\/poll/],
  passiveUrlNames: ['poll'],
  isAuthenticated: async () => true,
  logout: async (request) => { await request.session.destroy() },
  onExpire: (_request, info: ExpireInfo) => { void info.idleFor },
  routePrefix: '/session_security',
  returnToUrl: '/login',
  activityResolution: 1,
  insecure: false
}

// @ts-expect-error expireAfter is seconds or a function, not a string
const badExpire: SessionSecurityOptions = { expireAfter: '600' }
// @ts-expect-error passiveUrls takes strings and RegExps only
const badPassive: SessionSecurityOptions = { passiveUrls: [42] }
// @ts-expect-error onExpire's reason is 'idle' or 'invalid'
const badReason: ExpireInfo = { idleFor: 1, reason: 'timeout' }
// @ts-expect-error there is no `prefix` option (Fastify reserves it): use routePrefix
const badPrefix: SessionSecurityOptions = { prefix: '/x' }

test('the public API has the documented shape', async t => {
  const app = Fastify()
  await app.register(fastifyCookie)
  await app.register(fastifySession, { secret: 's'.repeat(32), cookie: { secure: 'auto' } })
  await app.register(sessionSecurity, good)
  // Route config is typed by module augmentation.
  app.get('/poll', { config: { name: 'poll', sessionSecurity: { passive: true } } }, async () => 'ok')
  // @ts-expect-error passive is a boolean
  app.get('/bad', { config: { sessionSecurity: { passive: 'yes' } } }, async () => 'ok')
  await app.ready()
  t.teardown(() => app.close())

  const snippet: string = app.sessionSecurity.snippet({} as FastifyRequest, { nonce: 'n', locale: 'fr' })
  t.equal(snippet, '', 'a request the hook has not seen is anonymous')
  t.equal(app.sessionSecurity.pingUrl, '/session_security/ping/')
  t.equal(app.sessionSecurity.staticPrefix, '/session_security/static/')
  t.ok(Object.isFrozen(app.sessionSecurity))
  t.equal(new InvalidOptionError('x', 'y').code, 'FST_SESSION_SECURITY_INVALID_OPTION')
  t.equal(new PersistentCookieError().code, 'FST_SESSION_SECURITY_PERSISTENT_COOKIE')
  t.same([badExpire, badPassive, badReason, badPrefix].length, 4)
})
