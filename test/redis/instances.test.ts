// Several instances: three Fastify processes share one Redis (DESIGN.md section 6).
import t from 'tap'
import { startRedis } from '../helpers/redis.js'
import { threeInstancesAgree } from '../helpers/multi.js'

const redis = await startRedis()
t.teardown(() => redis.stop())

t.test('three processes, one Redis', t => threeInstancesAgree(t, redis.client(), { REDIS_PORT: String(redis.port) }))
