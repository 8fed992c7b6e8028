process.env.IOREDIS_MAJOR = '6'
await import('./instances.test.js')
