// What the plugin adds to Fastify: route config and the `sessionSecurity` decorator.
import Fastify from 'fastify'
import type { SessionSecurityDecorator, SnippetOptions } from 'fastify-session-security'

const app = Fastify()

app.get('/api/notifications', { config: { sessionSecurity: { passive: true } } }, async () => [])
app.get('/api/poll', { config: { name: 'poll' } }, async () => ({ ok: true }))
app.route({ method: 'GET', url: '/api/both', config: { name: 'both', sessionSecurity: { passive: false } }, handler: async () => 'ok' })

app.get('/dashboard', async (request, reply) => {
  const markup: string = app.sessionSecurity.snippet(request)
  const french: string = app.sessionSecurity.snippet(request, { nonce: 'r4nd0m', locale: 'fr' })
  const ping: string = app.sessionSecurity.pingUrl
  const assets: string = app.sessionSecurity.staticPrefix
  return reply.type('text/html').send(`<body>${markup}${french}<a href="${ping}">${assets}</a></body>`)
})

app.get('/wrong', async (request) => {
  // @ts-expect-error the snippet needs the request
  app.sessionSecurity.snippet()
  // @ts-expect-error the nonce is a string
  app.sessionSecurity.snippet(request, { nonce: 42 })
  // @ts-expect-error the decorator is read-only
  app.sessionSecurity.pingUrl = '/elsewhere'
  return 'never'
})

// @ts-expect-error passive is a boolean
app.get('/bad', { config: { sessionSecurity: { passive: 'yes' } } }, async () => 'ok')
// @ts-expect-error a route name is a string
app.get('/bad-name', { config: { name: 42 } }, async () => 'ok')

const decorator: SessionSecurityDecorator = app.sessionSecurity
const snippetOptions: SnippetOptions = { locale: 'pt-BR' }

export { decorator, snippetOptions }
