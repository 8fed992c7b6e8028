process.env.IOREDIS_MAJOR = '6'
await import('./plugin.test.js')
