// SessionSecurityStore: a session store for @fastify/session on an ioredis client (Redis or
// Cluster, ioredis 5 or 6), that keeps a session's last activity inside Redis and never lets a
// session that ended come back.
//
// Sessions are JSON in one string key, readable by plain connect-redis (GET + JSON.parse). The
// serializer always writes `_session_security` first, in the fixed 24-character form of
// `toISOString()`, then the sign-in instant, so the scripts find both at fixed offsets and splice
// them without decoding the JSON: Redis's cjson would re-encode application data differently
// (empty arrays become objects, big numbers lose digits), so application data is never decoded or
// re-encoded here.
//
// Ending a session (`destroy`, or the plugin's expiry) leaves a tombstone under its key for
// `tombstoneTtl` seconds: a short JSON marker with the reason. `get` reads it as no session, and no
// save and no activity write ever turns it back into a session, so a request that was in flight
// when the user signed out cannot bring the session back. A session given a new id (`regenerate`)
// has no tombstone and is saved as usual.
//
// Every script caps activity at Redis's own clock (TIME), keeps the later of the stored and the
// incoming activity, and touches one key, so it runs on Redis Cluster too.
import { EventEmitter } from 'node:events'
import type { Cluster, Redis } from 'ioredis'
import { InvalidOptionError } from './errors.js'
import { kRotation, type Rotation } from './symbols.js'

type Callback = (err?: unknown, data?: any) => void

/** Why a session ended, as its tombstone records it. */
export type EndReason = 'logout' | 'idle' | 'absolute' | 'invalid'

/** What the activity write found: the activity it kept, or why there was nothing to write to. */
export type RecordResult =
  | { status: 'recorded', at: number, now: number }
  | { status: 'ended', reason: EndReason, now: number }
  | { status: 'gone', now: number }
  | { status: 'foreign', now: number }

/** What ending a session found: a live session that this call ended, a tombstone, or no key. */
export type EndResult =
  | { status: 'ended' }
  | { status: 'already-ended', reason: EndReason }
  | { status: 'gone' }

export interface SessionSecurityStoreOptions {
  /** An ioredis client: `new Redis(...)` or `new Cluster(...)`. */
  client: Redis | Cluster
  /** Key prefix. Default `sess:`. */
  prefix?: string
  /**
   * Seconds a new key lives before its first activity write sets the idle TTL (the plugin writes
   * activity in the same request that signs a user in). Default 600.
   */
  ttl?: number
  /** Seconds a tombstone lives: at least the longest request an application can have in flight. Default 600. */
  tombstoneTtl?: number
}

/** What @fastify/session hands a store: a session with its cookie. */
interface SessionData { [key: string]: unknown }

export const ACTIVITY_FIELD = '_session_security'
export const SIGNED_IN_FIELD = '_session_security_since'
const ENDED_FIELD = '_session_security_ended'
const ENDED_PREFIX = `{"${ENDED_FIELD}":"`
/** A tombstone: exactly the marker that `end` writes, as the scripts' `tombstone_reason` reads it. */
const MAX_TOMBSTONE_LENGTH = 64
const TOMBSTONE = new RegExp(`^\\{"${ENDED_FIELD}":"([A-Za-z]+)"\\}$`)
const REASONS: ReadonlySet<string> = new Set(['logout', 'idle', 'absolute', 'invalid'])

/**
 * How long, and for how many ids at most, a process remembers the sessions it rotated: long enough
 * for a request of the same session sent at the same moment (a double click) to rotate it too.
 */
const ROTATION_MEMORY_MS = 60_000
const MAX_ROTATIONS_REMEMBERED = 10_000

function hasData (sess: SessionData): boolean {
  for (const key in sess) if (key !== 'cookie') return true
  return false
}

const RECORD_COMMAND = 'sessionSecurityRecordActivity'
const SAVE_COMMAND = 'sessionSecuritySave'
const END_COMMAND = 'sessionSecurityEnd'

// Shared Lua: Redis's clock, epoch ms <-> the ISO form of toISOString() (Redis Lua has no os.date,
// so Howard Hinnant's days-from-civil and civil-from-days), and the fixed-offset head.
const LUA_HELPERS = `
local PREFIX = '{"${ACTIVITY_FIELD}":"'
local SINCE = ',"${SIGNED_IN_FIELD}":'
local SINCE_FIRST = '{"${SIGNED_IN_FIELD}":'
local ENDED = '${ENDED_PREFIX}'
local floor = math.floor

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + floor(tonumber(t[2]) / 1000)
end

-- The reason of a tombstone, or nil: a tombstone is the whole marker that END writes, never a
-- session whose JSON merely starts like one.
local function tombstone_reason(json)
  return string.match(json, '^' .. ENDED .. '(%a+)"}$')
end

local function is_tombstone(json)
  return tombstone_reason(json) ~= nil
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
    '^{"${ACTIVITY_FIELD}":"(%d%d%d%d)%-(%d%d)%-(%d%d)T(%d%d):(%d%d):(%d%d)%.(%d%d%d)Z"')
  if not y then return nil end
  local t = ((days_from_civil(tonumber(y), tonumber(mo), tonumber(d)) * 24 + tonumber(h)) * 60
    + tonumber(mi)) * 60000 + tonumber(s) * 1000 + tonumber(ms)
  if iso(t) ~= string.sub(json, 23, 46) then return nil end
  return t
end
`

// KEYS[1] session key; ARGV[1] activity (epoch ms); ARGV[2] seconds that the key outlives that
// activity (0: keep the key's TTL); ARGV[3] sign-in instant (epoch ms) to store when the session
// has none (0: none). Returns { status, activity, now, reason }: status 1 recorded, -1 no key
// (never created here), -2 a tombstone (never replaced), 0 JSON not in this store's form (the
// plugin saves the whole session instead).
const RECORD_ACTIVITY_LUA = LUA_HELPERS + `
local now = now_ms()
local json = redis.call('GET', KEYS[1])
if not json then return { -1, 0, now } end
if is_tombstone(json) then return { -2, 0, now, tombstone_reason(json) } end
local at = math.min(tonumber(ARGV[1]), now)
local ttl = tonumber(ARGV[2])
local since = math.min(tonumber(ARGV[3]), now)
local stored = head(json)
local out
if stored then
  at = math.max(math.min(stored, now), at)
  local rest = string.sub(json, 48)
  local value = iso(at)
  -- The serializer and this script write the sign-in instant right after the activity. Its name
  -- anywhere else is another serializer's field or a value that a user controls: the plugin
  -- writes the whole session instead, which decodes the JSON and tells them apart.
  local missing = since > 0 and string.sub(rest, 1, #SINCE) ~= SINCE
  if missing and string.find(rest, '"${SIGNED_IN_FIELD}"', 1, true) then return { 0, 0, now } end
  if missing then
    out = PREFIX .. value .. '"' .. SINCE .. string.format('%d', since) .. rest
  elseif value ~= string.sub(json, 23, 46) then
    out = PREFIX .. value .. '"' .. rest
  end
elseif string.sub(json, 1, #SINCE_FIRST) == SINCE_FIRST then
  -- The serializer's form without an activity (a session id rotated with the sign-in instant
  -- kept): the activity goes in front, the stored instant stays. The plugin's names anywhere
  -- after it: the whole-session write decides, as below.
  local after = string.match(json, '^{"${SIGNED_IN_FIELD}":%d+()[,}]')
  if not after or string.find(json, '"${ACTIVITY_FIELD}', after, true) then return { 0, 0, now } end
  out = PREFIX .. iso(at) .. '",' .. string.sub(json, 2)
elseif string.find(json, '"${ACTIVITY_FIELD}', 1, true) or string.sub(json, 1, 1) ~= '{' then
  -- One of the plugin's fields out of place, or a value that spells a name of them: the plugin
  -- writes the whole session instead, which decodes the JSON and puts the fields first.
  return { 0, 0, now }
else
  local first = PREFIX .. iso(at) .. '"'
  if since > 0 then
    first = first .. SINCE .. string.format('%d', since)
  end
  if string.match(json, '^{%s*}$') then out = first .. '}' else out = first .. ',' .. string.sub(json, 2) end
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
return { 1, at, now }
`

// KEYS[1] session key; ARGV[1] the serialized session; ARGV[2] TTL in seconds for a new key (0:
// none). A tombstone is never replaced (returns 0). An existing key keeps its TTL (the last
// activity write set it) and the later activity. Returns 1 when saved.
const SAVE_LUA = LUA_HELPERS + `
local json = redis.call('GET', KEYS[1])
if json and is_tombstone(json) then return 0 end
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

// KEYS[1] session key; ARGV[1] reason; ARGV[2] tombstone TTL in seconds. Leaves a tombstone.
// Returns { 1 } when a live session was ended by this call, { 2 } when there was no key, and
// { 0, reason } when a tombstone was already there (it keeps its first reason).
const END_LUA = LUA_HELPERS + `
local json = redis.call('GET', KEYS[1])
if json and is_tombstone(json) then return { 0, tombstone_reason(json) } end
redis.call('SET', KEYS[1], ENDED .. ARGV[1] .. '"}', 'EX', tonumber(ARGV[2]))
if json then return { 1 } end
return { 2 }
`

interface ScriptClient {
  [RECORD_COMMAND]: (key: string, at: number, ttl: number, since: number) => Promise<[number, number, number, string?]>
  [SAVE_COMMAND]: (key: string, value: string, ttl: number) => Promise<number>
  [END_COMMAND]: (key: string, reason: string, ttl: number) => Promise<[number, string?]>
  get: (key: string) => Promise<string | null>
  time: () => Promise<[string, string] | [number, number]>
}

function toReason (value: unknown): EndReason {
  return typeof value === 'string' && REASONS.has(value) ? value as EndReason : 'logout'
}

/** JSON with `_session_security` first and the sign-in instant second, so the scripts find them at fixed offsets. */
export const sessionSerializer = Object.freeze({
  parse (text: string): SessionData {
    return JSON.parse(text)
  },
  stringify (sess: SessionData): string {
    const { [ACTIVITY_FIELD]: activity, [SIGNED_IN_FIELD]: since, ...rest } = sess
    const body = JSON.stringify(rest)
    const value = JSON.stringify(activity)
    if (value === undefined) return since === undefined ? body : JSON.stringify({ [SIGNED_IN_FIELD]: since, ...rest })
    let head = `{"${ACTIVITY_FIELD}":${value}`
    const sinceValue = JSON.stringify(since)
    if (sinceValue !== undefined) head += `,"${SIGNED_IN_FIELD}":${sinceValue}`
    return body === '{}' ? `${head}}` : `${head},${body.slice(1)}`
  }
})

function positiveSeconds (name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(name, `of SessionSecurityStore must be a positive number of seconds, got ${String(value)}`)
  }
  return Math.ceil(value)
}

/** Calls back when given a callback, else returns (or throws): the two styles @fastify/session accepts. */
function answer<T> (cb: Callback | undefined, err: unknown, data?: T): T | undefined {
  if (cb !== undefined) {
    cb(err ?? null, data)
    return undefined
  }
  if (err) throw err
  return data
}

export class SessionSecurityStore extends EventEmitter {
  readonly prefix: string
  readonly ttl: number
  readonly tombstoneTtl: number
  readonly #redis: ScriptClient
  /**
   * The reason of the tombstone that `get` found, for the duration of its callback: the plugin's
   * onRequest hook runs inside that callback (@fastify/session calls `done` synchronously) and
   * reads it there to tell the application why the session ended.
   */
  #endedInCallback: EndReason | undefined
  /**
   * What the running `destroy` found, for the duration of its callback: @fastify/session's
   * `regenerate` saves the session under its new id inside that callback, so `set` knows a
   * rotation, and whether the session it rotates had ended.
   */
  #destroyInCallback: { sid: string, endedBefore: EndReason | undefined } | undefined
  /** Ids whose live session this process rotated lately, with when (epoch ms), oldest first. */
  readonly #rotated = new Map<string, number>()

  constructor (options: SessionSecurityStoreOptions) {
    super()
    const client = options?.client as (Redis & { defineCommand?: unknown }) | undefined
    if (typeof client?.defineCommand !== 'function') {
      throw new InvalidOptionError('client', 'of SessionSecurityStore must be an ioredis client (new Redis() or new Cluster())')
    }
    const prefix = options.prefix ?? 'sess:'
    if (typeof prefix !== 'string') throw new InvalidOptionError('prefix', `of SessionSecurityStore must be a string, got ${String(prefix)}`)
    this.prefix = prefix
    this.ttl = positiveSeconds('ttl', options.ttl, 600)
    this.tombstoneTtl = positiveSeconds('tombstoneTtl', options.tombstoneTtl, 600)
    client.defineCommand(RECORD_COMMAND, { numberOfKeys: 1, lua: RECORD_ACTIVITY_LUA })
    client.defineCommand(SAVE_COMMAND, { numberOfKeys: 1, lua: SAVE_LUA })
    client.defineCommand(END_COMMAND, { numberOfKeys: 1, lua: END_LUA })
    this.#redis = client as unknown as ScriptClient
  }

  /**
   * The session, or null when there is none or it ended (a tombstone). Not an async function: it
   * runs on every request, and with a callback (as @fastify/session calls it) the callback runs
   * from the read's own reaction, with no async frame to resume.
   */
  get (sid: string, cb?: Callback): Promise<SessionData | null | undefined> {
    // A real promise in every case: a client (a wrapper, a mock) that throws, or gives a thenable
    // that calls back twice, still reaches the callback exactly once. No extra step for ioredis.
    let read: Promise<string | null>
    try {
      read = Promise.resolve(this.#redis.get(this.prefix + sid))
    } catch (err) {
      read = Promise.reject(err)
    }
    if (cb === undefined) return read.then(json => this.#read(json, undefined))
    return read.then(json => this.#read(json, cb), (err: unknown) => answer(cb, err))
  }

  /** What `get` found: null for no key or a tombstone (whose reason `endedReason` tells during the callback), else the session. */
  #read (json: string | null, cb: Callback | undefined): SessionData | null | undefined {
    if (json === null) return answer(cb, null, null)
    // A tombstone is short; a session is checked by its length alone.
    const tombstone = json.length <= MAX_TOMBSTONE_LENGTH ? TOMBSTONE.exec(json) : null
    if (tombstone !== null) {
      this.#endedInCallback = toReason(tombstone[1])
      try {
        return answer(cb, null, null)
      } finally {
        this.#endedInCallback = undefined
      }
    }
    let session: SessionData
    try {
      session = sessionSerializer.parse(json)
    } catch (err) {
      return answer(cb, err)
    }
    return answer(cb, null, session)
  }

  /**
   * Why the session that the running `get` callback asked for ended, when it found a tombstone;
   * undefined anywhere else.
   */
  endedReason (): EndReason | undefined {
    return this.#endedInCallback
  }

  /**
   * Saves the whole session. An existing key keeps its TTL and the later of the stored and the
   * saved activity (a slow request never writes back an older one); a new key lives `ttl` seconds
   * until an activity write sets its idle TTL; a tombstone is left as it is (the session ended
   * while this request was in flight: saving it would bring it back). A rotation (a `set` inside
   * the callback of another id's `destroy`) is noted on the session object: see `rotationOf` (lib/symbols.ts).
   */
  async set (sid: string, sess: object, cb?: Callback): Promise<void> {
    this.#noteRotation(sid, sess as SessionData)
    try {
      await this.#redis[SAVE_COMMAND](this.prefix + sid, sessionSerializer.stringify(sess as SessionData), this.ttl)
    } catch (err) {
      return answer(cb, err)
    }
    return answer(cb, null)
  }

  /**
   * Ends the session as the application's logout: a tombstone with the reason `logout` (a session
   * that had ended already keeps its first reason).
   */
  async destroy (sid: string, cb?: Callback): Promise<void> {
    let result: EndResult | undefined
    let error: unknown
    try {
      result = await this.end(sid, 'logout')
    } catch (err) {
      error = err
    }
    // A destroy that failed may have left the session alive: a rotation of it counts as of an ended one.
    const endedBefore = result === undefined ? 'logout' : result.status === 'already-ended' ? result.reason : undefined
    this.#destroyInCallback = { sid, endedBefore }
    try {
      return answer(cb, error ?? null)
    } finally {
      this.#destroyInCallback = undefined
    }
  }

  /** Remembers, for a while, a live session that this process rotated with its data kept. */
  #rememberRotated (sid: string): void {
    const now = Date.now()
    for (const [id, at] of this.#rotated) {
      if (now - at < ROTATION_MEMORY_MS && this.#rotated.size < MAX_ROTATIONS_REMEMBERED) break
      this.#rotated.delete(id)
    }
    this.#rotated.delete(sid)
    this.#rotated.set(sid, now)
  }

  /**
   * A `set` of another id inside `destroy`'s callback is a rotation (@fastify/session's
   * `regenerate` saves the new id there): the session object gets, under a Symbol that no
   * serializer or hash sees, the id it replaces and, when that session had ended before the
   * rotation's `destroy` (a sign-out in another tab, the expiry on another instance), why. A
   * session that this process itself ended moments ago with data kept (the same request sent
   * twice: both rotate it) is no such end.
   */
  #noteRotation (sid: string, sess: SessionData): void {
    const rotation = this.#destroyInCallback
    this.#destroyInCallback = undefined
    if (rotation === undefined || rotation.sid === sid) return
    let endedBefore = rotation.endedBefore
    if (endedBefore === undefined) {
      // Only a rotation that kept data can have a twin: a sign-out that rotates (`regenerate()`
      // alone, as @fastify/passport's logOut does) keeps none, and ends the session for all.
      if (hasData(sess)) this.#rememberRotated(rotation.sid)
    } else {
      const at = this.#rotated.get(rotation.sid)
      if (at !== undefined && Date.now() - at < ROTATION_MEMORY_MS) endedBefore = undefined
    }
    Object.defineProperty(sess, kRotation, { value: { from: rotation.sid, endedBefore } satisfies Rotation, configurable: true })
  }

  /** The TTL belongs to activity writes: touching a session is not activity, so it changes nothing. */
  touch (_sid: string, _sess: object, cb?: Callback): void {
    answer(cb, null)
  }

  /**
   * Ends a session with a reason and leaves its tombstone. Tells whether this call ended a live
   * session, found no key, or found it ended already (with the first reason): of many requests
   * that end one session at once, on any number of instances, exactly one sees `ended` or `gone`.
   */
  async end (sid: string, reason: EndReason): Promise<EndResult> {
    const [status, previous] = await this.#redis[END_COMMAND](this.prefix + sid, reason, this.tombstoneTtl)
    if (Number(status) === 1) return { status: 'ended' }
    if (Number(status) === 2) return { status: 'gone' }
    return { status: 'already-ended', reason: toReason(previous) }
  }

  /**
   * Keeps the later of the stored last activity and `at` (epoch ms), both capped at Redis's clock,
   * without rewriting anything else; the key then lives `ttlSeconds` past that activity. Stores
   * `signedInAt` (epoch ms) as the sign-in instant when the session has none. One script call.
   */
  async recordActivity (sid: string, at: number, ttlSeconds: number, signedInAt = 0): Promise<RecordResult> {
    if (!Number.isFinite(at) || !(Number.isFinite(ttlSeconds) && ttlSeconds > 0) || !Number.isFinite(signedInAt)) {
      throw new TypeError(`recordActivity: bad arguments (at ${String(at)}, ttlSeconds ${String(ttlSeconds)}, signedInAt ${String(signedInAt)})`)
    }
    const [status, stored, now, reason] = await this.#redis[RECORD_COMMAND](
      this.prefix + sid, Math.floor(at), Math.ceil(ttlSeconds), Math.max(0, Math.floor(signedInAt)))
    const redisNow = Number(now)
    switch (Number(status)) {
      case 1: return { status: 'recorded', at: Number(stored), now: redisNow }
      case -1: return { status: 'gone', now: redisNow }
      case -2: return { status: 'ended', reason: toReason(reason), now: redisNow }
      default: return { status: 'foreign', now: redisNow }
    }
  }

  /** Redis's clock (epoch ms): the one clock that every instance measures idle time on. */
  async time (): Promise<number> {
    const [seconds, micros] = await this.#redis.time()
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
  }
}
