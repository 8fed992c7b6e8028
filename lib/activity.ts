// Recording last activity. With a store that offers `recordActivity` (SessionSecurityStore), the
// write is one atomic script on the Redis side that never moves activity backwards, never rewrites
// application data and sets the key's TTL; the session object is left untouched, so
// @fastify/session does not write the whole session back. With any other store the field is set
// on the session, and @fastify/session saves the whole session at the end of the request.
import type { FastifyRequest } from 'fastify'
import { formatActivity } from './clock.js'
import type { Settings } from './options.js'
import { kExpireAfter, kLastActivity } from './symbols.js'

export interface ActivityStore {
  /**
   * Keeps the later of the stored and given activity; resolves to it (epoch ms), to -1 when the
   * session is no longer in the store, or to 0 when the stored session is in a form it cannot edit.
   */
  recordActivity (sessionId: string, at: number, ttlSeconds: number): Promise<number>
  /** TTL in seconds for keys created before any activity write (sessions saved at login). */
  useIdleTtl? (ttlSeconds: number): void
}

function hasRecordActivity (store: unknown): store is ActivityStore {
  return typeof (store as ActivityStore | undefined)?.recordActivity === 'function'
}

export interface ActivityRecorder {
  /** Notices the session store (once per store) so that sessions saved at login get the idle TTL. */
  watchStore: (request: FastifyRequest) => void
  /** Records `at` as last activity; returns a promise only when the write goes to the store. */
  record: (request: FastifyRequest, at: number, expireAfter: number) => Promise<void> | undefined
}

export function createActivityRecorder (settings: Settings): ActivityRecorder {
  const resolutionSeconds = settings.activityResolutionMs / 1000
  /** The store key outlives the last activity write by the idle timeout, the resolution and 2 s of slack. */
  const ttlFor = (expireAfter: number): number => Math.ceil(expireAfter + resolutionSeconds) + 2
  let knownStore: unknown
  let activityStore: ActivityStore | undefined

  function storeOf (request: FastifyRequest): ActivityStore | undefined {
    const store = request.sessionStore
    if (store !== knownStore) {
      knownStore = store
      activityStore = hasRecordActivity(store) ? store : undefined
      if (activityStore !== undefined && settings.fixedExpireAfter !== undefined) {
        activityStore.useIdleTtl?.(ttlFor(settings.fixedExpireAfter))
      }
    }
    return activityStore
  }

  function throughSession (request: FastifyRequest, at: number): undefined {
    request.session._session_security = formatActivity(at)
    request[kLastActivity] = at
    return undefined
  }

  return {
    watchStore: storeOf,
    record (request, at, expireAfter) {
      const store = storeOf(request)
      if (store === undefined) return throughSession(request, at)
      return store.recordActivity(request.session.sessionId, at, ttlFor(expireAfter)).then(stored => {
        if (stored > 0) request[kLastActivity] = stored
        // A form the script does not edit: write the whole session, which puts it in its form.
        else if (stored === 0) throughSession(request, at)
        // The session is not in the store: deleted since it was loaded (a logout in another tab,
        // an expiry on another instance), or never saved. Writing it now would bring it back, and
        // the ping and the snippet must not treat it as signed in.
        else {
          request[kExpireAfter] = 0
          request[kLastActivity] = 0
        }
      })
    }
  }
}
