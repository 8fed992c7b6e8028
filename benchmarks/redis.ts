// A private redis-server for one benchmark configuration: a free loopback port, no persistence,
// its own temporary folder, stopped at the end. The Redis on 6379 is never touched.
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { freePort, spawnRedis, waitForRedis } from '../test/helpers/redis.js'

export interface CommandStat {
  calls: number
  /** Time Redis spent executing the command, in microseconds. */
  usec: number
}

export interface BenchRedis {
  readonly port: number
  /** A connection for the driver (stats, fill, inspection); its own commands are excluded from counts. */
  readonly admin: Redis
  /** Cumulative calls and time per command since start, from INFO commandstats. */
  commandStats (): Promise<Map<string, CommandStat>>
  version (): Promise<string>
  stop (): Promise<void>
}

export async function startRedis (): Promise<BenchRedis> {
  const port = await freePort()
  const dir = await mkdtemp(join(tmpdir(), 'fss-bench-redis-'))
  const child = spawnRedis(port, dir)
  await waitForRedis(port)
  const admin = new Redis({ port, host: '127.0.0.1' })

  return {
    port,
    admin,
    async commandStats () {
      const info = await admin.info('commandstats')
      const stats = new Map<string, CommandStat>()
      for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
        stats.set(match[1], { calls: Number(match[2]), usec: Number(match[3]) })
      }
      return stats
    },
    async version () {
      const info = await admin.info('server')
      return /^redis_version:(\S+)/m.exec(info)?.[1] ?? 'unknown'
    },
    async stop () {
      admin.disconnect()
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit')
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
        await exited
        clearTimeout(timer)
      }
      await rm(dir, { recursive: true, force: true })
    }
  }
}
