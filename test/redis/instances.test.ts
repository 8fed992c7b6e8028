// Several instances: three Fastify processes share one Redis (README "Scaling and Redis" › "Several instances").
import t from 'tap'
import { startRedis } from '../helpers/redis.js'
import { threeInstancesAgree } from '../helpers/multi.js'

const redis = await startRedis()
t.teardown(() => redis.stop())

t.test('three processes, one Redis', t => threeInstancesAgree(t, redis.client(), { REDIS_PORT: String(redis.port) }))
