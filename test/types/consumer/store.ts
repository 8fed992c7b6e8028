// SessionSecurityStore from `fastify-session-security/store`, given an ioredis client, as
// @fastify/session's store.
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import Fastify from 'fastify'
import { SessionSecurityStore, type SessionSecurityStoreOptions } from 'fastify-session-security/store'
import { Cluster, Redis } from 'ioredis'

const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 })
const store = new SessionSecurityStore({ client: redis })

const app = Fastify()
await app.register(fastifyCookie)
await app.register(fastifySession, {
  secret: 'a secret of at least thirty-two characters',
  store,
  rolling: false,
  saveUninitialized: false,
  cookie: { secure: 'auto' }
})

const cluster = new Cluster([{ host: '127.0.0.1', port: 7000 }], { enableOfflineQueue: false })
const options: SessionSecurityStoreOptions = { client: cluster, prefix: 'app:sess:', ttl: 900, tombstoneTtl: 600 }
const clustered = new SessionSecurityStore(options)

// @ts-expect-error the store needs an ioredis client
const withoutClient = new SessionSecurityStore({})
// @ts-expect-error a URL is not a client
const withUrl = new SessionSecurityStore({ client: 'redis://127.0.0.1:6379' })

// @ts-expect-error the store writes its own JSON: there is no serializer option
const withSerializer = new SessionSecurityStore({ client: redis, serializer: JSON })
// @ts-expect-error tombstoneTtl is a number of seconds
const withTombstone = new SessionSecurityStore({ client: redis, tombstoneTtl: '10m' })

export { clustered, withoutClient, withSerializer, withTombstone, withUrl }
