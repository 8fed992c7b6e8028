process.env.IOREDIS_MAJOR = '6'
await import('./faults.test.js')
