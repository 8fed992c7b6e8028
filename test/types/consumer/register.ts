// Registering the plugin: the options that type-check, and the mistakes that must not.
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import Fastify, { type FastifyPluginCallback, type FastifyRequest } from 'fastify'
import sessionSecurity, {
  sessionSecurity as unwrapped,
  type ExpireInfo,
  type ExpireReason,
  type SessionSecurityOptions
} from 'fastify-session-security'

const app = Fastify()
await app.register(fastifyCookie)
await app.register(fastifySession, { secret: 'a secret of at least thirty-two characters', cookie: { secure: 'auto' } })

await app.register(sessionSecurity)
await app.register(sessionSecurity, {
  warnAfter: 540,
  expireAfter: 600,
  passiveUrls: ['/health', /^\/api\/poll\//],
  passiveUrlNames: ['poll'],
  isAuthenticated: (request) => request.session.get('_session_security') !== undefined,
  logout: async (request) => { await request.session.destroy() },
  onExpire: (request, info) => { request.log.info({ idleFor: info.idleFor, reason: info.reason }, 'signed out') },
  routePrefix: '/session_security',
  returnToUrl: '/login',
  activityResolution: 1,
  insecure: false,
  absoluteTimeout: 43200,
  clearSiteData: ['cookies', 'storage'],
  noStore: true
})
await app.register(sessionSecurity, {
  expireAfter: (request: FastifyRequest) => request.url.startsWith('/admin') ? 300 : 900,
  isAuthenticated: async () => true,
  logout: (_request, reply) => { reply.header('x-signed-out', '1') },
  onExpire: async (request, { reason, idleFor, sessionId, session }) => {
    request.log.info({ reason, idleFor, sessionId, user: session.user }, 'signed out')
  },
  absoluteTimeout: (request: FastifyRequest) => request.url.startsWith('/admin') ? 3600 : 28800,
  clearSiteData: false,
  noStore: false
})
await app.register(sessionSecurity, { absoluteTimeout: false, clearSiteData: ['cookies', 'storage', 'cache'] })

const options: SessionSecurityOptions = { warnAfter: 20, expireAfter: 40 }
const reason: ExpireReason = 'idle'
const reasons: ExpireReason[] = ['idle', 'absolute', 'invalid']
function audit (request: FastifyRequest, info: ExpireInfo): void {
  const why: ExpireReason = info.reason
  const idleFor: number = info.idleFor
  const sessionId: string = info.sessionId
  const data: Record<string, unknown> = info.session
  request.log.warn({ why, idleFor, sessionId, keys: Object.keys(data) }, 'session ended')
}
const plugin: FastifyPluginCallback<SessionSecurityOptions> = unwrapped

// @ts-expect-error expireAfter is seconds or a function of the request, not a string
await app.register(sessionSecurity, { expireAfter: '600' })
// @ts-expect-error warnAfter is a number of seconds
await app.register(sessionSecurity, { warnAfter: '540' })
// @ts-expect-error passiveUrls holds strings and RegExps
await app.register(sessionSecurity, { passiveUrls: [42] })
// @ts-expect-error passiveUrlNames holds strings
await app.register(sessionSecurity, { passiveUrlNames: [/poll/] })
// @ts-expect-error isAuthenticated answers a boolean
await app.register(sessionSecurity, { isAuthenticated: () => 'yes' })
// @ts-expect-error expireAfter's function returns seconds, not a promise
await app.register(sessionSecurity, { expireAfter: async () => 600 })
// @ts-expect-error insecure is a boolean
await app.register(sessionSecurity, { insecure: 'true' })
// @ts-expect-error absoluteTimeout is seconds, a function, or false to turn it off
await app.register(sessionSecurity, { absoluteTimeout: true })
// @ts-expect-error clearSiteData lists "cookies", "storage" and "cache"
await app.register(sessionSecurity, { clearSiteData: ['executionContexts'] })
// @ts-expect-error clearSiteData is a list or false, not true
await app.register(sessionSecurity, { clearSiteData: true })
// @ts-expect-error noStore is a boolean
await app.register(sessionSecurity, { noStore: 'yes' })
// @ts-expect-error a misspelt option is caught
await app.register(sessionSecurity, { expireAftr: 600 })

// @ts-expect-error there is no `prefix` option (Fastify's register reserves it): routePrefix
const withPrefix: SessionSecurityOptions = { prefix: '/x' }
// @ts-expect-error ExpireReason is a closed list (an application's own logout is a SessionEndReason, not an ExpireReason)
const unknownReason: ExpireReason = 'logout'

export { audit, options, plugin, reason, reasons, unknownReason, withPrefix }
