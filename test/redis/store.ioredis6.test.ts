process.env.IOREDIS_MAJOR = '6'
await import('./store.test.js')
