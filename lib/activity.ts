// Recording last activity. With SessionSecurityStore, the write is one atomic script in Redis
// that never moves activity backwards, never rewrites application data, never turns a tombstone
// back into a session, sets the key's TTL and returns Redis's clock; the session object is left
// untouched, so @fastify/session does not write the whole session back. With any other store the
// fields are set on the session, and @fastify/session saves the whole session at the end of the
// request.
import type { FastifyRequest } from 'fastify'
import { formatActivity, SharedClock } from './clock.js'
import type { Settings } from './options.js'
import type { EndReason, EndResult, RecordResult } from './store.js'

/** What the plugin uses of SessionSecurityStore; any store with these methods works the same. */
export interface SecurityStore {
  recordActivity (sessionId: string, at: number, ttlSeconds: number, signedInAt?: number): Promise<RecordResult>
  end (sessionId: string, reason: EndReason): Promise<EndResult>
  time (): Promise<number>
  endedReason (): EndReason | undefined
}

function isSecurityStore (store: unknown): store is SecurityStore {
  const candidate = store as Partial<SecurityStore> | undefined
  return typeof candidate?.recordActivity === 'function' && typeof candidate.end === 'function' &&
    typeof candidate.time === 'function' && typeof candidate.endedReason === 'function'
}

export interface ActivityRecorder {
  /** The clock that idle and absolute time are measured on: Redis's with SessionSecurityStore. */
  readonly clock: SharedClock
  /** The request's store when it is a SecurityStore, else undefined. */
  securityStore (request: FastifyRequest): SecurityStore | undefined
  /**
   * Records `at` as last activity, and `signedInAt` as the sign-in instant when the session has
   * none; a promise only when the write goes to the store. `readActivity`, the stored activity
   * that the request read, lets concurrent requests that read the same value share one write.
   */
  record (request: FastifyRequest, at: number, expireAfter: number, signedInAt: number, readActivity?: number): Promise<RecordResult> | RecordResult
}

interface RecentWrite {
  at: number
  /** The stored last activity that the request read before it wrote. */
  readActivity: number
  result: Promise<RecordResult>
}

/**
 * The activity writes this process made lately, by session id: two maps swapped every resolution
 * period, so an entry lives at most two periods and the memory stays bounded by the traffic.
 */
class RecentWrites {
  #current = new Map<string, RecentWrite>()
  #previous = new Map<string, RecentWrite>()
  #rotatedAt = Date.now()
  readonly #periodMs: number

  constructor (periodMs: number) {
    this.#periodMs = periodMs
  }

  find (sessionId: string): RecentWrite | undefined {
    const now = Date.now()
    if (now - this.#rotatedAt >= this.#periodMs) {
      this.#previous = this.#current
      this.#current = new Map()
      this.#rotatedAt = now
    }
    return this.#current.get(sessionId) ?? this.#previous.get(sessionId)
  }

  remember (sessionId: string, write: RecentWrite): void {
    this.#current.set(sessionId, write)
  }

  forget (sessionId: string, write: RecentWrite): void {
    for (const writes of [this.#current, this.#previous]) {
      if (writes.get(sessionId) === write) writes.delete(sessionId)
    }
  }
}

export function createActivityRecorder (settings: Settings): ActivityRecorder {
  const resolutionSeconds = settings.activityResolutionMs / 1000
  /** The store key outlives the last activity write by the idle timeout, the resolution and 2 s of slack. */
  const ttlFor = (expireAfter: number): number => Math.ceil(expireAfter + resolutionSeconds) + 2
  const resolutionMs = settings.activityResolutionMs
  const clock = new SharedClock()
  const recentWrites = new RecentWrites(resolutionMs)
  let knownStore: unknown
  let activityStore: SecurityStore | undefined

  function securityStore (request: FastifyRequest): SecurityStore | undefined {
    const store = request.sessionStore
    if (store !== knownStore) {
      knownStore = store
      activityStore = isSecurityStore(store) ? store : undefined
      clock.reset()
    }
    return activityStore
  }

  function throughSession (request: FastifyRequest, at: number, signedInAt: number): RecordResult {
    const session = request.session
    session._session_security = formatActivity(at)
    if (signedInAt > 0 && session._session_security_since === undefined) session._session_security_since = Math.floor(signedInAt)
    return { status: 'recorded', at, now: at }
  }

  return {
    clock,
    securityStore,
    record (request, at, expireAfter, signedInAt, readActivity) {
      const store = securityStore(request)
      if (store === undefined) return throughSession(request, at, signedInAt)
      const sessionId = request.session.sessionId
      // Concurrent requests of one session all read the same old activity: one write of this
      // process per session is enough, the others that read that same value share it.
      if (readActivity !== undefined) {
        const recent = recentWrites.find(sessionId)
        if (recent !== undefined && recent.readActivity === readActivity && at - recent.at < resolutionMs) return recent.result
      }
      const sentAt = Date.now()
      const result = store.recordActivity(sessionId, at, ttlFor(expireAfter), signedInAt).then(outcome => {
        clock.observe(outcome.now, sentAt)
        // A session in a form the script does not edit: write the whole session, which puts it in its form.
        return outcome.status === 'foreign' ? throughSession(request, at, signedInAt) : outcome
      })
      if (resolutionMs > 0 && readActivity !== undefined) {
        const entry = { at, readActivity, result }
        recentWrites.remember(sessionId, entry)
        // A failed write is not shared: the next request tries again.
        result.then(undefined, () => { recentWrites.forget(sessionId, entry) })
      }
      return result
    }
  }
}
