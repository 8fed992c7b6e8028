// SessionSecurityStore: connect-redis's RedisStore for ioredis clients (Redis and Cluster), with
// last activity recorded inside Redis by one atomic script.
//
// Sessions stay JSON in one string key, readable by plain connect-redis (GET + JSON.parse). The
// serializer always writes `_session_security` as the first key, in the fixed 24-character form of
// `toISOString()`, so the scripts find it at a fixed offset and splice it without decoding the JSON:
// Redis's cjson would re-encode application data differently (empty arrays become objects, big
// numbers lose digits, escapes change), so application data is never decoded or re-encoded here.
//
// Both scripts keep the later of the stored and the incoming activity, and cap both at Redis's
// own clock (TIME), so a slow request never moves activity backwards and a server with a fast clock
// cannot keep sessions alive. One key per call, so they run on Redis Cluster too.
import { RedisStore } from 'connect-redis'
import type { Cluster, Redis } from 'ioredis'
import { InvalidOptionError } from './errors.js'

type Callback = (err?: unknown, data?: any) => any // eslint-disable-line @typescript-eslint/no-explicit-any

type RedisStoreOptions = ConstructorParameters<typeof RedisStore>[0]

/** What a store receives from @fastify/session: a session, with its cookie. */
type SessionData = { [key: string]: any, cookie?: { [key: string]: unknown, expires?: Date | string | null } } // eslint-disable-line @typescript-eslint/no-explicit-any

export type SessionSecurityStoreOptions = Omit<RedisStoreOptions, 'client' | 'serializer'> & {
  /** An ioredis client: `new Redis(...)` or `new Cluster(...)`. */
  client: Redis | Cluster
}

const FIELD = '_session_security'
const RECORD_COMMAND = 'sessionSecurityRecordActivity'
const SAVE_COMMAND = 'sessionSecuritySave'

// Shared Lua: Redis's clock, and epoch ms <-> the ISO form of toISOString() (Redis Lua has no
// os.date), with Howard Hinnant's days-from-civil and civil-from-days.
const LUA_HELPERS = `
local PREFIX = '{"${FIELD}":"'
local floor = math.floor

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + floor(tonumber(t[2]) / 1000)
end

local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local doy = floor((153 * ((m + 9) % 12) + 2) / 5) + d - 1
  return era * 146097 + yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy - 719468
end

local function iso(ms)
  local days = floor(ms / 86400000)
  local rem = ms - days * 86400000
  local z = days + 719468
  local era = floor(z / 146097)
  local doe = z - era * 146097
  local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
  local mp = floor((5 * doy + 2) / 153)
  local d = doy - floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  local h = floor(rem / 3600000)
  rem = rem - h * 3600000
  local mi = floor(rem / 60000)
  rem = rem - mi * 60000
  local s = floor(rem / 1000)
  return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', y, m, d, h, mi, s, rem - s * 1000)
end

-- The activity at the head of a session's JSON (epoch ms), or nil when the JSON does not start
-- with the field in the exact form of toISOString(), or the date does not exist (2026-02-30).
local function head(json)
  local y, mo, d, h, mi, s, ms = string.match(json,
    '^{"${FIELD}":"(%d%d%d%d)%-(%d%d)%-(%d%d)T(%d%d):(%d%d):(%d%d)%.(%d%d%d)Z"')
  if not y then return nil end
  local t = ((days_from_civil(tonumber(y), tonumber(mo), tonumber(d)) * 24 + tonumber(h)) * 60
    + tonumber(mi)) * 60000 + tonumber(s) * 1000 + tonumber(ms)
  if iso(t) ~= string.sub(json, 23, 46) then return nil end
  return t
end
`

// KEYS[1] session key; ARGV[1] activity (epoch ms); ARGV[2] seconds that the key outlives that
// activity (0: keep the key's TTL). Returns the resulting activity; -1 when the key does not exist
// (a deleted session is never brought back); 0 when the JSON was not written by this store.
const RECORD_ACTIVITY_LUA = LUA_HELPERS + `
local json = redis.call('GET', KEYS[1])
if not json then return -1 end
local now = now_ms()
local at = math.min(tonumber(ARGV[1]), now)
local ttl = tonumber(ARGV[2])
local stored = head(json)
local out
if stored then
  at = math.max(math.min(stored, now), at)
  local value = iso(at)
  if value ~= string.sub(json, 23, 46) then out = PREFIX .. value .. string.sub(json, 47) end
elseif string.find(json, '"${FIELD}"', 1, true) or string.sub(json, 1, 1) ~= '{' then
  return 0
elseif string.match(json, '^{%s*}$') then
  out = PREFIX .. iso(at) .. '"}'
else
  out = PREFIX .. iso(at) .. '",' .. string.sub(json, 2)
end
if ttl > 0 then
  local px = at + ttl * 1000 - now
  if px < 1 then px = 1 end
  if out then
    redis.call('SET', KEYS[1], out, 'PX', px)
  else
    redis.call('PEXPIRE', KEYS[1], px)
  end
elseif out then
  redis.call('SET', KEYS[1], out, 'KEEPTTL')
end
return at
`

// KEYS[1] session key; ARGV[1] the serialized session; ARGV[2] TTL in seconds for a new key (0:
// none). An existing key keeps its TTL (the last activity write set it) and the later activity.
const SAVE_LUA = LUA_HELPERS + `
local json = redis.call('GET', KEYS[1])
local val = ARGV[1]
local incoming = head(val)
if incoming then
  local now = now_ms()
  local at = math.min(incoming, now)
  local stored = json and head(json)
  if stored then at = math.max(at, math.min(stored, now)) end
  if at ~= incoming then val = PREFIX .. iso(at) .. string.sub(val, 47) end
end
if json then
  redis.call('SET', KEYS[1], val, 'KEEPTTL')
else
  local ttl = tonumber(ARGV[2])
  if ttl > 0 then
    redis.call('SET', KEYS[1], val, 'EX', ttl)
  else
    redis.call('SET', KEYS[1], val)
  end
end
return 1
`

interface ScriptClient {
  [RECORD_COMMAND]: (key: string, at: number, ttl: number) => Promise<number>
  [SAVE_COMMAND]: (key: string, value: string, ttl: number) => Promise<number>
}

/** JSON with `_session_security` first, so the scripts find it at a fixed offset. */
export const sessionSerializer = Object.freeze({
  parse (text: string): SessionData {
    return JSON.parse(text)
  },
  stringify (sess: SessionData): string {
    const { [FIELD]: activity, ...rest } = sess as SessionData & { [FIELD]?: unknown }
    const body = JSON.stringify(rest)
    const value = JSON.stringify(activity)
    if (value === undefined) return body
    const head = `{"${FIELD}":${value}`
    return body === '{}' ? `${head}}` : `${head},${body.slice(1)}`
  }
})

function optionalCb (err: unknown, data: unknown, cb: Callback | undefined): unknown {
  if (cb) return cb(err, data)
  if (err) throw err
  return data
}

export class SessionSecurityStore extends RedisStore {
  readonly #redis: ScriptClient
  readonly #explicitTtl: boolean
  #idleTtl = 0

  constructor (options: SessionSecurityStoreOptions) {
    const client = options?.client as (Redis & { defineCommand?: unknown }) | undefined
    if (typeof client?.defineCommand !== 'function') {
      throw new InvalidOptionError('client', 'of SessionSecurityStore must be an ioredis client (new Redis() or new Cluster())')
    }
    if ((options as { serializer?: unknown }).serializer !== undefined) {
      throw new InvalidOptionError('serializer', 'cannot be set on SessionSecurityStore: it writes its own JSON, which its scripts depend on')
    }
    super({ ...options, serializer: sessionSerializer })
    this.#explicitTtl = options.ttl !== undefined
    client.defineCommand(RECORD_COMMAND, { numberOfKeys: 1, lua: RECORD_ACTIVITY_LUA })
    client.defineCommand(SAVE_COMMAND, { numberOfKeys: 1, lua: SAVE_LUA })
    this.#redis = client as unknown as ScriptClient
  }

  /**
   * TTL (seconds) for keys that no activity write has touched yet, such as a session saved at
   * login and never used again. The plugin calls it with its idle timeout plus slack; an explicit
   * `ttl` given to the constructor wins.
   */
  useIdleTtl (seconds: number): void {
    if (this.#explicitTtl) return
    if (!(Number.isFinite(seconds) && seconds > 0)) throw new TypeError(`useIdleTtl: seconds must be a positive number, got ${String(seconds)}`)
    this.#idleTtl = Math.ceil(seconds)
    this.ttl = this.#idleTtl
  }

  /**
   * Keeps the later of the stored last activity and `at` (epoch ms), both capped at Redis's clock,
   * without rewriting anything else; the key then lives `ttlSeconds` past that activity. One
   * script call. Resolves to the resulting activity (epoch ms); -1 when the session is not in
   * Redis (it is never brought back); 0 when its JSON was not written by this store.
   */
  async recordActivity (sid: string, at: number, ttlSeconds: number): Promise<number> {
    if (!Number.isFinite(at) || !(Number.isFinite(ttlSeconds) && ttlSeconds > 0)) {
      throw new TypeError(`recordActivity: bad arguments (at ${String(at)}, ttlSeconds ${String(ttlSeconds)})`)
    }
    const ttl = this.disableTTL ? 0 : Math.ceil(ttlSeconds)
    return Number(await this.#redis[RECORD_COMMAND](this.prefix + sid, Math.floor(at), ttl))
  }

  /**
   * Saves the whole session, as connect-redis does, except that an existing key keeps its TTL and
   * the later of the stored and the saved activity (a slow request never writes back an older
   * one). A missing key is created, as by connect-redis: from the JSON alone a session logged out
   * meanwhile cannot be told from one given a new id that kept its activity (regenerate with keys).
   */
  override async set (sid: string, sess: SessionData, cb?: Callback): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    try {
      let ttl = 0
      if (!this.disableTTL) {
        ttl = this.#newKeyTtl(sess)
        if (ttl <= 0) return await this.destroy(sid, cb)
      }
      await this.#redis[SAVE_COMMAND](this.prefix + sid, this.serializer.stringify(sess), ttl)
      return optionalCb(null, null, cb)
    } catch (err) {
      return optionalCb(err, null, cb)
    }
  }

  /** The TTL belongs to activity writes: touching a session is not activity, so it changes nothing. */
  override async touch (_sid: string, _sess: SessionData, cb?: Callback): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    return optionalCb(null, null, cb)
  }

  /** connect-redis's rule (a ttl function, else the cookie's expiry, else `ttl`), capped by the idle TTL. */
  #newKeyTtl (sess: SessionData): number {
    if (typeof this.ttl === 'function') return this.ttl(sess)
    const expires = sess?.cookie?.expires
    if (!expires) return this.ttl
    const ttl = Math.ceil((Number(new Date(expires)) - Date.now()) / 1000)
    return this.#idleTtl > 0 ? Math.min(ttl, this.#idleTtl) : ttl
  }
}
