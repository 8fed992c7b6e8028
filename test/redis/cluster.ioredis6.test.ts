process.env.IOREDIS_MAJOR = '6'
await import('./cluster.test.js')
