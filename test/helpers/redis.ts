// Starts a private redis-server on a free loopback port for one test file, so a developer's own
// Redis on 6379 is never touched or flushed, and stops it when the test ends.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from './ioredis.js'
import { stopProcess } from './process.js'

export interface RedisServer {
  port: number
  url: string
  /** A new ioredis client on this server; closed by stop(). */
  client (): Redis
  /** Kills the server process (keeps its port) to simulate an outage. */
  kill (): Promise<void>
  /** Starts the server again on the same port after kill(). */
  restart (): Promise<void>
  /** Cumulative calls per command, from INFO commandstats. */
  commandStats (): Promise<Record<string, number>>
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

export async function waitForRedis (port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (true) {
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
    probe.on('error', () => {})
    try {
      await probe.connect()
      await probe.ping()
      return
    } catch (err) {
      if (Date.now() > deadline) throw err
      await sleep(50)
    } finally {
      probe.disconnect()
    }
  }
}

export function spawnRedis (port: number, dir: string, extraArgs: string[] = []): ChildProcess {
  const child = spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--dir', dir, '--logfile', '', ...extraArgs
  ], { stdio: 'ignore' })
  child.on('error', err => { throw new Error(`cannot start redis-server (run: apt-get install -y redis-server): ${err.message}`) })
  return child
}

export async function startRedis (extraArgs: string[] = []): Promise<RedisServer> {
  const port = await freePort()
  const dir = await mkdtemp(join(tmpdir(), 'fss-redis-'))
  let child = spawnRedis(port, dir, extraArgs)
  await waitForRedis(port)
  const clients: Redis[] = []

  async function kill (): Promise<void> {
    await stopProcess(child, { signal: 'SIGKILL' })
  }

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    client () {
      const c = new Redis({ port, host: '127.0.0.1' })
      c.on('error', () => {})
      clients.push(c)
      return c
    },
    kill,
    async restart () {
      child = spawnRedis(port, dir, extraArgs)
      await waitForRedis(port)
    },
    async commandStats () {
      const admin = new Redis({ port, host: '127.0.0.1' })
      try {
        const info = await admin.info('commandstats')
        const stats: Record<string, number> = {}
        for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) stats[match[1]] = Number(match[2])
        return stats
      } finally {
        admin.disconnect()
      }
    },
    async stop () {
      for (const c of clients) c.disconnect()
      await kill()
      await rm(dir, { recursive: true, force: true })
    }
  }
}
