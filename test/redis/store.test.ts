// SessionSecurityStore against a real redis-server: the stored format, the activity merge inside
// Redis (max rule, TIME cap), TTLs, foreign data, byte-for-byte application data, errors.
import t from 'tap'
import { SessionSecurityStore, sessionSerializer } from '../../lib/store.js'
import { startRedis } from '../helpers/redis.js'

const redis = await startRedis()
t.teardown(() => redis.stop())
const client = redis.client()
const store = new SessionSecurityStore({ client })

const HOUR = 3_600_000
let counter = 0
const sid = (): string => `s${++counter}`
const iso = (ms: number): string => new Date(ms).toISOString()
const raw = (id: string): Promise<string | null> => client.get(`sess:${id}`)
async function redisNow (): Promise<number> {
  const [seconds, micros] = await client.time()
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
}
/** The JSON after the field, byte for byte (the field and its value take 46 characters). */
const tail = (json: string | null): string => (json ?? '').slice(46)
/** Saves as @fastify/session does over a session's life: created at login (no activity yet), then saved whole, so the TTL is the new-key one. */
async function save (id: string, sess: Record<string, unknown>): Promise<unknown> {
  if (await client.exists(`sess:${id}`) === 0) {
    const { _session_security: _activity, ...atLogin } = sess
    await store.set(id, atLogin)
  }
  return store.set(id, sess)
}

t.test('the serializer writes _session_security first, and nothing else changes', async t => {
  const at = iso(Date.UTC(2026, 10, 22, 13))
  t.equal(sessionSerializer.stringify({ user: 'a', _session_security: at, cookie: { path: '/' } }),
    `{"_session_security":"${at}","user":"a","cookie":{"path":"/"}}`)
  t.equal(sessionSerializer.stringify({ _session_security: at }), `{"_session_security":"${at}"}`)
  t.equal(sessionSerializer.stringify({ user: 'a' }), '{"user":"a"}', 'no field, no key')
  t.equal(sessionSerializer.stringify({ user: 'a', _session_security: undefined }), '{"user":"a"}')
  t.same(sessionSerializer.parse(`{"_session_security":"${at}","user":"a"}`), { _session_security: at, user: 'a' })
})

t.test('a saved session is plain JSON that connect-redis reads, field first', async t => {
  const id = sid()
  const at = Date.now() - 5000
  await save(id, { user: 'ann', _session_security: iso(at), cookie: { path: '/', expires: null } })
  const json = await raw(id)
  t.ok(json?.startsWith(`{"_session_security":"${iso(at)}",`), json ?? 'missing')
  t.same(await store.get(id), { _session_security: iso(at), user: 'ann', cookie: { path: '/', expires: null } })
})

t.test('recordActivity on a missing key returns -1 and creates nothing', async t => {
  const id = sid()
  t.equal(await store.recordActivity(id, Date.now(), 60), -1)
  t.equal(await raw(id), null)
  t.equal(await client.exists(`sess:${id}`), 0)
})

t.test('recordActivity inserts the field first when it is absent, and keeps the rest', async t => {
  const id = sid()
  await save(id, { user: 'ann', cookie: { path: '/' } })
  const before = await raw(id)
  const at = Date.now() - 1000
  t.equal(await store.recordActivity(id, at, 60), at)
  t.equal(await raw(id), `{"_session_security":"${iso(at)}",${before?.slice(1)}`)

  await client.set(`sess:${id}`, '{}')
  t.equal(await store.recordActivity(id, at, 60), at)
  t.equal(await raw(id), `{"_session_security":"${iso(at)}"}`)

  await client.set(`sess:${id}`, '{ \n }')
  t.equal(await store.recordActivity(id, at, 60), at)
  t.equal(await raw(id), `{"_session_security":"${iso(at)}"}`, 'an empty object with spaces stays valid JSON')
  t.same(JSON.parse(await raw(id) ?? ''), { _session_security: iso(at) })
})

t.test('recordActivity keeps the later activity (max rule), and rewrites only when it moved', async t => {
  const id = sid()
  const stored = Date.now() - 10_000
  await save(id, { _session_security: iso(stored), user: 'ann' })
  const before = await raw(id)

  const older = stored - 60_000
  const statsBefore = await redis.commandStats()
  t.equal(await store.recordActivity(id, older, 60), stored, 'an older activity does not move it back')
  const statsAfter = await redis.commandStats()
  t.equal(await raw(id), before, 'unchanged')
  t.equal((statsAfter.set ?? 0) - (statsBefore.set ?? 0), 0, 'no SET when the value did not move')
  t.equal((statsAfter.pexpire ?? 0) - (statsBefore.pexpire ?? 0), 1, 'only the TTL is refreshed')
  t.equal((statsAfter.evalsha ?? 0) + (statsAfter.eval ?? 0) - (statsBefore.evalsha ?? 0) - (statsBefore.eval ?? 0), 1, 'one script call')

  const newer = stored + 5000
  t.equal(await store.recordActivity(id, newer, 60), newer)
  const json = await raw(id)
  t.equal(json, `{"_session_security":"${iso(newer)}${before?.slice(46)}`, 'spliced in place')
  t.same(await store.get(id), { _session_security: iso(newer), user: 'ann' })
})

t.test('an activity later than Redis TIME (a server with a fast clock) is capped at TIME', async t => {
  const id = sid()
  await save(id, { user: 'ann' })
  const before = await redisNow()
  const result = await store.recordActivity(id, Date.now() + 24 * HOUR, 60)
  const after = await redisNow()
  t.ok(result >= before && result <= after, `${result} within [${before}, ${after}]`)
  t.equal((await store.get(id))._session_security, iso(result))
})

t.test('a stored activity in the future counts as Redis TIME', async t => {
  const id = sid()
  await client.set(`sess:${id}`, `{"_session_security":"${iso(Date.now() + 24 * HOUR)}","user":"ann"}`)
  const before = await redisNow()
  const result = await store.recordActivity(id, Date.now() - 60_000, 60)
  const after = await redisNow()
  t.ok(result >= before && result <= after, `${result} within [${before}, ${after}]: the future value was rewritten`)
  t.equal(await raw(id), `{"_session_security":"${iso(result)}","user":"ann"}`)

  // A valid date far ahead (2096-02-29 exists) is capped too; 2100-02-29 does not exist.
  await client.set(`sess:${id}`, '{"_session_security":"2096-02-29T00:00:00.000Z","user":"ann"}')
  const capped = await store.recordActivity(id, 0, 60)
  t.ok(capped >= before && capped <= await redisNow())
  await client.set(`sess:${id}`, '{"_session_security":"2100-02-29T00:00:00.000Z","user":"ann"}')
  t.equal(await store.recordActivity(id, Date.now(), 60), 0, 'an impossible date is not guessed at')
})

t.test('the Lua date conversion agrees with toISOString', async t => {
  const now = Date.now()
  const samples = [
    0, 1, 999, 86_399_999, 86_400_000, Date.UTC(1972, 1, 29, 23, 59, 59, 999), Date.UTC(2000, 1, 29),
    Date.UTC(2000, 2, 1), Date.UTC(1999, 11, 31, 23, 59, 59, 999), Date.UTC(2024, 1, 29, 12), Date.UTC(2023, 11, 31),
    Date.UTC(1900, 1, 28), Date.UTC(1900, 2, 1), Date.UTC(1600, 1, 29), -1, -86_400_001, Date.UTC(0, 0, 1) - 1900 * 0,
    new Date('0000-01-01T00:00:00.000Z').getTime(), new Date('0400-02-29T10:20:30.456Z').getTime(), now - 1
  ]
  for (let i = 0; i < 200; i++) samples.push(Math.floor(Math.random() * now))
  // Old activities would expire the key at once: this store keeps keys without a TTL.
  const keep = new SessionSecurityStore({ client, disableTTL: true })
  const id = sid()
  let wrongFormat = 0
  let wrongParse = 0
  for (const at of samples) {
    await client.set(`sess:${id}`, '{"x":1}')
    const result = await keep.recordActivity(id, at, 60)
    if (await raw(id) !== `{"_session_security":"${iso(at)}","x":1}` || result !== at) wrongFormat++
    // Parse: a stored value is read back exactly (an older incoming activity keeps it).
    await client.set(`sess:${id}`, `{"_session_security":"${iso(at)}","x":1}`)
    if (await keep.recordActivity(id, at - 1, 60) !== at) wrongParse++
  }
  t.equal(wrongFormat, 0, `${samples.length} timestamps formatted as toISOString does`)
  t.equal(wrongParse, 0, `${samples.length} timestamps parsed back exactly`)
})

t.test('recordActivity sets the TTL to ttlSeconds past the resulting activity', async t => {
  const id = sid()
  await save(id, { user: 'ann' })
  const initial = await client.ttl(`sess:${id}`)
  t.ok(initial > 86_390 && initial <= 86_400, `connect-redis's default TTL for a new key: ${initial}`)
  await store.recordActivity(id, Date.now(), 10)
  let pttl = await client.pttl(`sess:${id}`)
  t.ok(pttl > 9000 && pttl <= 10_000, `PTTL ${pttl} follows the idle timeout`)

  // The key lives ttlSeconds past the activity itself, so an older merged activity shortens it.
  const id2 = sid()
  await save(id2, { user: 'ann' })
  await store.recordActivity(id2, Date.now() - 4000, 10)
  pttl = await client.pttl(`sess:${id2}`)
  t.ok(pttl > 5000 && pttl <= 6000, `PTTL ${pttl}: 10 s past an activity 4 s ago`)

  // Unchanged activity still refreshes the TTL (a new ttlSeconds can come with it).
  await store.recordActivity(id2, Date.now() - 60_000, 30)
  pttl = await client.pttl(`sess:${id2}`)
  t.ok(pttl > 25_000 && pttl <= 26_000, `PTTL ${pttl}`)

  // Activity so old that the key should already be gone leaves it 1 ms to live.
  const id3 = sid()
  const hourAgo = Date.now() - HOUR
  await client.set(`sess:${id3}`, `{"_session_security":"${iso(hourAgo)}"}`)
  t.equal(await store.recordActivity(id3, 0, 10), hourAgo)
  await new Promise(resolve => setTimeout(resolve, 20))
  t.equal(await raw(id3), null, 'expired at once')
})

t.test('foreign formats are not guessed at: recordActivity returns 0 and writes nothing', async t => {
  const id = sid()
  const cases = [
    `{"user":"ann","_session_security":"${iso(Date.now())}"}`,
    '{"user":{"_session_security":"nested"}}',
    '{"_session_security":"yesterday","user":"ann"}',
    '{"_session_security":1700000000000,"user":"ann"}',
    '[1,2,3]',
    '"a string"'
  ]
  for (const json of cases) {
    await client.set(`sess:${id}`, json, 'EX', 100)
    t.equal(await store.recordActivity(id, Date.now(), 60), 0, json)
    t.equal(await raw(id), json, 'unchanged')
    t.ok(await client.ttl(`sess:${id}`) > 90, 'TTL unchanged')
  }
})

t.test('application data survives byte for byte', async t => {
  const rest = ',"big":12345678901234567890123,"float":1.0e+2,"neg":-0,"arr":[],"obj":{},"deep":[[],{"a":[]}]' +
    ',"unicode":"héllo ✓ 😀 \\u00e9 \\ud83d\\ude00","quotes":"a \\"quoted\\" \\\\ back\\\\","slash":"\\/",' +
    '"ctl":"\\n\\t\\u0000","nested":{"_session_security":"not ours","list":[{"_session_security":"2000-01-01T00:00:00.000Z"}]},' +
    '"tricky":"\\"_session_security\\":\\"2099-01-01T00:00:00.000Z\\"","cookie":{"path":"/","expires":null}}'
  const id = sid()
  const first = Date.now() - 20_000
  await client.set(`sess:${id}`, `{"_session_security":"${iso(first)}"${rest}`)
  t.equal(await store.recordActivity(id, first + 1000, 60), first + 1000)
  t.equal(await raw(id), `{"_session_security":"${iso(first + 1000)}"${rest}`, 'splice keeps every byte')
  t.equal(await store.recordActivity(id, first, 60), first + 1000)
  t.equal(await raw(id), `{"_session_security":"${iso(first + 1000)}"${rest}`)

  // Insert without the field: the rest is kept byte for byte too (no nested field in this JSON).
  const plain = '{"big":12345678901234567890123,"arr":[],"u":"😀 \\u00e9","q":"\\"x\\\\"}'
  await client.set(`sess:${id}`, plain)
  t.equal(await store.recordActivity(id, first, 60), first)
  t.equal(await raw(id), `{"_session_security":"${iso(first)}",${plain.slice(1)}`)

  // A whole-session save merges the activity without touching the rest of what it writes.
  await client.set(`sess:${id}`, `{"_session_security":"${iso(first + 5000)}","x":1}`)
  const sess = { _session_security: iso(first), arr: [], big: 2 ** 60, u: 'é😀"\\', nested: { _session_security: 'x' } }
  await save(id, sess)
  t.equal(await raw(id), sessionSerializer.stringify({ ...sess, _session_security: iso(first + 5000) }))
})

t.test('set on an existing key keeps the later activity and the TTL', async t => {
  const id = sid()
  const stored = Date.now() - 5000
  await save(id, { _session_security: iso(stored), user: 'ann' })
  await store.recordActivity(id, stored, 20)

  // A slow request saves the session it loaded earlier, with an older activity and a new app key.
  await save(id, { _session_security: iso(stored - 30_000), user: 'ann', cart: [1] })
  t.same(await store.get(id), { _session_security: iso(stored), user: 'ann', cart: [1] }, 'activity not moved back')
  const pttl = await client.pttl(`sess:${id}`)
  t.ok(pttl > 10_000 && pttl <= 15_000, `PTTL ${pttl}: the TTL that the activity write set is kept`)

  // A newer activity in the save wins.
  await save(id, { _session_security: iso(stored + 2000), user: 'ann' })
  t.equal((await store.get(id))._session_security, iso(stored + 2000))

  // One in the future is capped at Redis TIME.
  const before = await redisNow()
  await save(id, { _session_security: iso(Date.now() + HOUR), user: 'ann' })
  const saved = Date.parse((await store.get(id))._session_security)
  t.ok(saved >= before && saved <= await redisNow(), 'capped at TIME')

  // A save without the field (the application removed it) is written as it is.
  await save(id, { user: 'bob' })
  t.equal(await raw(id), '{"user":"bob"}')

  // A stored field that this store did not write is replaced by the saved one.
  await client.set(`sess:${id}`, `{"user":"x","_session_security":"${iso(Date.now())}"}`, 'KEEPTTL')
  await save(id, { _session_security: iso(stored), user: 'ann' })
  t.equal(await raw(id), `{"_session_security":"${iso(stored)}","user":"ann"}`)
  t.ok(await client.pttl(`sess:${id}`) <= 15_000, 'TTL still kept')
})

t.test('set on a new key: EX of the store TTL, the idle TTL, or the cookie expiry', async t => {
  const id = sid()
  await save(id, { user: 'ann' })
  const ttl = await client.ttl(`sess:${id}`)
  t.ok(ttl > 86_390 && ttl <= 86_400, `default ${ttl}`)

  // A new key's activity in the future is capped too.
  const id1 = sid()
  await save(id1, { _session_security: iso(Date.now() + HOUR), user: 'ann' })
  t.ok(Date.parse((await store.get(id1))._session_security) <= await redisNow())

  const idle = new SessionSecurityStore({ client })
  idle.useIdleTtl(12.5)
  const id2 = sid()
  await idle.set(id2, { user: 'ann' })
  t.equal(await client.ttl(`sess:${id2}`), 13, 'the idle TTL, rounded up')
  // A persistent cookie (insecure mode) lives at most as long as the idle TTL in Redis.
  const id3 = sid()
  await idle.set(id3, { user: 'ann', cookie: { expires: new Date(Date.now() + 30 * 24 * HOUR) } })
  t.equal(await client.ttl(`sess:${id3}`), 13)
  const id4 = sid()
  await idle.set(id4, { user: 'ann', cookie: { expires: new Date(Date.now() + 5000).toISOString() } })
  t.ok(await client.ttl(`sess:${id4}`) <= 5)
  // Without an idle TTL, connect-redis's rule: the cookie's expiry.
  const id5 = sid()
  await store.set(id5, { user: 'ann', cookie: { expires: new Date(Date.now() + 7000) } })
  t.ok(await client.ttl(`sess:${id5}`) <= 7)
  // A cookie already expired: the session is deleted, as connect-redis does.
  await client.set(`sess:${id5}`, '{}')
  const cbResult = await new Promise(resolve => { void store.set(id5, { cookie: { expires: new Date(Date.now() - 1000) } }, (err: unknown) => resolve(err)) })
  t.equal(cbResult, null)
  t.equal(await raw(id5), null)

  // An explicit ttl wins over useIdleTtl.
  const explicit = new SessionSecurityStore({ client, ttl: 100 })
  explicit.useIdleTtl(12)
  const id6 = sid()
  await explicit.set(id6, { user: 'ann' })
  t.equal(await client.ttl(`sess:${id6}`), 100)
  const fn = new SessionSecurityStore({ client, ttl: () => 42 })
  fn.useIdleTtl(12)
  const id7 = sid()
  await fn.set(id7, { user: 'ann' })
  t.equal(await client.ttl(`sess:${id7}`), 42, 'a ttl function too')
  t.throws(() => idle.useIdleTtl(0), TypeError)
  t.throws(() => idle.useIdleTtl(Number.NaN), TypeError)
})

t.test('disableTTL: no expiry is ever set', async t => {
  const noTtl = new SessionSecurityStore({ client, disableTTL: true })
  const id = sid()
  await noTtl.set(id, { user: 'ann' })
  t.equal(await client.ttl(`sess:${id}`), -1)
  const at = Date.now() - 100
  t.equal(await noTtl.recordActivity(id, at, 10), at)
  t.equal(await client.ttl(`sess:${id}`), -1)
  t.equal(await noTtl.recordActivity(id, at - 1000, 10), at, 'unchanged: nothing written')
  t.equal(await client.ttl(`sess:${id}`), -1)
})

t.test('touch is not activity: it changes nothing', async t => {
  const id = sid()
  await save(id, { user: 'ann' })
  await client.expire(`sess:${id}`, 50)
  t.equal(await store.touch(id, { user: 'ann' }), null)
  await new Promise(resolve => { void store.touch(id, { user: 'ann' }, resolve) })
  t.equal(await client.ttl(`sess:${id}`), 50)
})

t.test('bad arguments and clients are refused', async t => {
  await t.rejects(store.recordActivity('x', Number.NaN, 10), TypeError)
  await t.rejects(store.recordActivity('x', Date.now(), 0), TypeError)
  await t.rejects(store.recordActivity('x', Date.now(), Number.POSITIVE_INFINITY), TypeError)
  t.throws(() => new SessionSecurityStore({ client: { get () {} } as never }), { code: 'FST_SESSION_SECURITY_INVALID_OPTION', message: /client.*ioredis/ }, 'not ioredis')
  t.throws(() => new SessionSecurityStore(undefined as never), { code: 'FST_SESSION_SECURITY_INVALID_OPTION' })
  t.throws(() => new SessionSecurityStore({ client, serializer: JSON } as never), { code: 'FST_SESSION_SECURITY_INVALID_OPTION', message: /serializer/ }, 'no custom serializer')
})

t.test('Redis errors reject, or go to the callback; nothing is half-written', async t => {
  const id = sid()
  await client.hset(`sess:${id}`, 'a', '1')
  await t.rejects(store.recordActivity(id, Date.now(), 10), /WRONGTYPE/)
  await t.rejects(store.set(id, { user: 'ann' }), /WRONGTYPE/)
  const err = await new Promise(resolve => { void store.set(id, { user: 'ann' }, resolve) })
  t.match(err, /WRONGTYPE/)
  t.same(await client.hgetall(`sess:${id}`), { a: '1' })
})

t.test('other connect-redis methods work as before', async t => {
  const id = sid()
  await save(id, { user: 'ann' })
  t.same(await store.get(id), { user: 'ann' })
  await store.destroy(id)
  t.equal(await store.get(id), null)
})

t.test('set creates a missing key with its activity (a session given a new id that kept it)', async t => {
  const id = sid()
  const at = Date.now() - 1000
  await store.set(id, { user: 'ann', _session_security: iso(at) })
  t.equal(await raw(id), `{"_session_security":"${iso(at)}","user":"ann"}`)
  t.ok(await client.ttl(`sess:${id}`) > 0, 'with the store TTL')
})
