// A private redis-server for one benchmark configuration: a free loopback port, no persistence,
// its own temporary folder, stopped at the end. The Redis on 6379 is never touched.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'

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

export async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

async function waitForRedis (port: number, child: ChildProcess, timeoutMs = 10_000): Promise<Redis> {
  const deadline = Date.now() + timeoutMs
  while (true) {
    if (child.exitCode !== null) throw new Error(`redis-server on port ${port} exited with code ${child.exitCode}`)
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.ping()
      return client
    } catch (err) {
      client.disconnect()
      if (Date.now() > deadline) throw err
      await sleep(50)
    }
  }
}

export async function startRedis (): Promise<BenchRedis> {
  const port = await freePort()
  const dir = await mkdtemp(join(tmpdir(), 'fss-bench-redis-'))
  const child = spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--dir', dir, '--logfile', ''
  ], { stdio: 'ignore' })
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve)
    child.once('error', err => reject(new Error(`cannot start redis-server (apt-get install -y redis-server): ${err.message}`)))
  })
  await spawned
  const admin = await waitForRedis(port, child)

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
