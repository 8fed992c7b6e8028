// Starts a private three-node Redis Cluster (no replicas) on free loopback ports for one test
// file, and stops it. Each node also needs its bus port (port + 10000) free.
import { execFile } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { Cluster, Redis } from './ioredis.js'
import { stopProcess } from './process.js'
import { spawnRedis, waitForRedis } from './redis.js'

const run = promisify(execFile)

export interface RedisCluster {
  ports: number[]
  /** A new ioredis Cluster client; closed by stop(). */
  client (options?: ConstructorParameters<typeof Cluster>[1]): Cluster
  /** Cumulative calls per command, summed over the nodes. */
  commandStats (): Promise<Record<string, number>>
  stop (): Promise<void>
}

/**
 * Whether a port is free now. Not with `events.once(server, 'listening')`: its promise rejects on
 * 'error', so a busy port threw (EADDRINUSE) instead of answering false.
 */
async function canBind (port: number): Promise<boolean> {
  const server = createServer()
  const bound = await new Promise<boolean>(resolve => {
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => resolve(true))
  })
  if (bound) await new Promise(resolve => server.close(resolve))
  return bound
}

async function clusterPorts (count: number): Promise<number[]> {
  const ports: number[] = []
  while (ports.length < count) {
    const port = 20_000 + Math.floor(Math.random() * 20_000)
    if (!ports.includes(port) && await canBind(port) && await canBind(port + 10_000)) ports.push(port)
  }
  return ports
}

export async function startCluster (): Promise<RedisCluster> {
  const ports = await clusterPorts(3)
  const dir = await mkdtemp(join(tmpdir(), 'fss-cluster-'))
  const children: ChildProcess[] = ports.map(port => spawnRedis(port, dir, [
    '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '2000'
  ]))
  const clients: Cluster[] = []
  async function stop (): Promise<void> {
    for (const c of clients) c.disconnect()
    await Promise.all(children.map(child => stopProcess(child, { signal: 'SIGKILL' })))
    await rm(dir, { recursive: true, force: true })
  }
  try {
    await Promise.all(ports.map(port => waitForRedis(port)))
    await run('redis-cli', ['--cluster', 'create', ...ports.map(port => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes'])
    // Wait until every node agrees that all slots are served.
    const deadline = Date.now() + 20_000
    for (const port of ports) {
      const admin = new Redis({ port, host: '127.0.0.1' })
      try {
        while (!(await admin.cluster('INFO') as string).includes('cluster_state:ok')) {
          if (Date.now() > deadline) throw new Error(`cluster node ${port} not ready`)
          await sleep(100)
        }
      } finally {
        admin.disconnect()
      }
    }
  } catch (err) {
    await stop()
    throw err
  }
  return {
    ports,
    client (options) {
      const c = new Cluster(ports.map(port => ({ host: '127.0.0.1', port })), options)
      c.on('error', () => {})
      clients.push(c)
      return c
    },
    async commandStats () {
      const stats: Record<string, number> = {}
      for (const port of ports) {
        const admin = new Redis({ port, host: '127.0.0.1' })
        try {
          const info = await admin.info('commandstats')
          for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) stats[match[1]] = (stats[match[1]] ?? 0) + Number(match[2])
        } finally {
          admin.disconnect()
        }
      }
      return stats
    },
    stop
  }
}
