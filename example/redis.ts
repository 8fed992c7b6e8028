// The demo's Redis client, configured as the README recommends for faults: while Redis is down or
// hangs, requests that need a session fail within about a second (a 5xx), never wait for it.
import { Redis, type RedisOptions } from 'ioredis'

export const redisOptions = {
  // A command already sent when the connection drops is sent again once, after the first
  // reconnection: a blip (a Redis restart, a failover, a proxy closing an idle connection) costs
  // a slower answer, not an error. The demo's commands are safe to repeat (GET, DEL, and the
  // store's scripts, which keep the later activity and write the same session again).
  maxRetriesPerRequest: 1,
  // A command sent while the connection is down fails at once instead of waiting in a queue.
  enableOfflineQueue: false,
  // A Redis that accepts the connection but does not answer (overloaded, paused, a network that
  // drops packets) fails the command after a second, too.
  commandTimeout: 1000,
  connectTimeout: 1000,
  // Keep reconnecting for as long as it takes, at most once a second.
  retryStrategy: (attempt: number) => Math.min(attempt * 100, 1000)
} satisfies RedisOptions

/**
 * A client on `url` once it is ready (without the offline queue, commands sent before that
 * would fail), or undefined, with nothing left open, when Redis does not answer within `waitMs`.
 */
export async function connectRedis (url: string, waitMs = 1000): Promise<Redis | undefined> {
  const client = new Redis(url, redisOptions)
  // ioredis emits 'error' on each failed attempt, and an 'error' event nobody listens to
  // crashes the process. The caller may add a listener of its own to log them.
  client.on('error', () => {})
  let timer: NodeJS.Timeout | undefined
  const ready = await Promise.race([
    new Promise<boolean>(resolve => client.once('ready', () => resolve(true))),
    new Promise<boolean>(resolve => { timer = setTimeout(() => resolve(false), waitMs) })
  ])
  clearTimeout(timer)
  if (ready) return client
  client.disconnect()
  return undefined
}
