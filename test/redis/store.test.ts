// SessionSecurityStore against a real redis-server, on the ioredis major that IOREDIS_MAJOR picks
// (store.ioredis6.test.ts runs this file on ioredis 6): the stored format, the activity merge
// inside Redis (max rule, TIME cap), TTLs, foreign data, byte-for-byte application data,
// tombstones, errors, and the splice under concurrency.
import t from 'tap'
import { RedisStore } from 'connect-redis'
import { InvalidOptionError } from '../../lib/errors.js'
import { SessionSecurityStore, sessionSerializer, type EndReason, type EndResult, type RecordResult } from '../../lib/store.js'
import { rotationOf, type Rotation } from '../../lib/symbols.js'
import { Cluster, IOREDIS_MAJOR, Redis } from '../helpers/ioredis.js'
import { startRedis } from '../helpers/redis.js'

const redis = await startRedis()
t.teardown(() => redis.stop())
const client = redis.client()
const store = new SessionSecurityStore({ client })

const HOUR = 3_600_000
const ACTIVITY = '_session_security'
const SINCE = '_session_security_since'
let counter = 0
const sid = (): string => `s${++counter}`
const iso = (ms: number): string => new Date(ms).toISOString()
const raw = (id: string): Promise<string | null> => client.get(`sess:${id}`)
const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))
async function redisNow (): Promise<number> {
  const [seconds, micros] = await client.time()
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
}
/** The activity that a write kept; fails the test on any other status. */
function kept (result: RecordResult): number {
  if (result.status !== 'recorded') throw new Error(`expected recorded, got ${JSON.stringify(result)}`)
  return result.at
}
const count = (text: string, needle: string): number => text.split(needle).length - 1
/** What @fastify/session does at sign-in: a new key, saved whole, with no activity yet. */
async function signIn (id: string, sess: Record<string, unknown> = { user: 'ann' }): Promise<void> {
  await store.set(id, sess)
}
/** A session as it stands after the sign-in request: saved, then its first activity written. */
async function active (id: string, at: number, sess: Record<string, unknown> = { user: 'ann' }, ttl = 60): Promise<void> {
  await signIn(id, sess)
  kept(await store.recordActivity(id, at, ttl))
}
/** A callback-style call as @fastify/session makes it: the error and data it called back with. */
function viaCallback (call: (cb: (err?: unknown, data?: unknown) => void) => unknown): Promise<{ err: unknown, data: unknown }> {
  return new Promise(resolve => { call((err, data) => resolve({ err, data })) })
}

t.test(`runs on ioredis ${IOREDIS_MAJOR}`, async t => {
  t.ok(client instanceof Redis, 'the client comes from the major under test')
  const info = await client.client('INFO') as string
  t.match(info, IOREDIS_MAJOR === 6 ? /resp=3/ : /resp=2/, `RESP${IOREDIS_MAJOR === 6 ? 3 : 2}, the major's default protocol`)
  t.type(Cluster, 'function')
})

t.test('the serializer writes _session_security first, then the sign-in instant, and nothing else changes', async t => {
  const at = iso(Date.UTC(2026, 10, 22, 13))
  const since = Date.UTC(2026, 10, 22, 9)
  t.equal(sessionSerializer.stringify({ user: 'a', _session_security: at, cookie: { path: '/' } }),
    `{"_session_security":"${at}","user":"a","cookie":{"path":"/"}}`)
  t.equal(sessionSerializer.stringify({ user: 'a', [SINCE]: since, _session_security: at }),
    `{"_session_security":"${at}","_session_security_since":${since},"user":"a"}`, 'the sign-in instant second')
  t.equal(sessionSerializer.stringify({ _session_security: at }), `{"_session_security":"${at}"}`)
  t.equal(sessionSerializer.stringify({ [SINCE]: since, _session_security: at }), `{"_session_security":"${at}","_session_security_since":${since}}`)
  t.equal(sessionSerializer.stringify({ user: 'a', [SINCE]: since }), `{"_session_security_since":${since},"user":"a"}`, 'no activity: the sign-in instant first')
  t.equal(sessionSerializer.stringify({ user: 'a' }), '{"user":"a"}', 'no field, no key')
  t.equal(sessionSerializer.stringify({ user: 'a', _session_security: undefined, [SINCE]: undefined }), '{"user":"a"}')
  t.same(sessionSerializer.parse(`{"_session_security":"${at}","user":"a"}`), { _session_security: at, user: 'a' })
})

t.test('a saved session is plain JSON that connect-redis reads, field first', async t => {
  const id = sid()
  const at = Date.now() - 5000
  await active(id, at, { user: 'ann', cookie: { path: '/', expires: null } })
  const json = await raw(id)
  t.ok(json?.startsWith(`{"_session_security":"${iso(at)}",`), json ?? 'missing')
  const expected = { _session_security: iso(at), user: 'ann', cookie: { path: '/', expires: null } }
  t.same(await store.get(id), expected)
  t.same(await new RedisStore({ client }).get(id), expected, 'connect-redis reads the same session')
})

t.test('recordActivity on a missing key answers gone and creates nothing', async t => {
  const id = sid()
  const before = await redisNow()
  const result = await store.recordActivity(id, Date.now(), 60, Date.now())
  t.equal(result.status, 'gone')
  t.ok(result.now >= before && result.now <= await redisNow(), 'with Redis\'s clock')
  t.equal(await client.exists(`sess:${id}`), 0)
})

t.test('recordActivity inserts the fields first when they are absent, and keeps the rest', async t => {
  const id = sid()
  await signIn(id, { user: 'ann', cookie: { path: '/' } })
  const before = await raw(id)
  const at = Date.now() - 1000
  const since = at - 60_000
  const result = await store.recordActivity(id, at, 60, since)
  t.equal(kept(result), at)
  t.ok(result.status === 'recorded' && Math.abs(result.now - Date.now()) < 1000, 'Redis\'s clock comes back')
  t.equal(await raw(id), `{"_session_security":"${iso(at)}","_session_security_since":${since},${before?.slice(1)}`)

  // Only the activity without a sign-in instant.
  await client.set(`sess:${id}`, before as string)
  t.equal(kept(await store.recordActivity(id, at, 60)), at)
  t.equal(await raw(id), `{"_session_security":"${iso(at)}",${before?.slice(1)}`)

  await client.set(`sess:${id}`, '{}')
  t.equal(kept(await store.recordActivity(id, at, 60)), at)
  t.equal(await raw(id), `{"_session_security":"${iso(at)}"}`)

  await client.set(`sess:${id}`, '{ \n }')
  t.equal(kept(await store.recordActivity(id, at, 60, since)), at)
  t.equal(await raw(id), `{"_session_security":"${iso(at)}","_session_security_since":${since}}`, 'an empty object with spaces stays valid JSON')
  t.same(JSON.parse(await raw(id) ?? ''), { _session_security: iso(at), [SINCE]: since })
})

t.test('the sign-in instant: added once, never replaced, capped at Redis TIME', async t => {
  const id = sid()
  const at = Date.now() - 2000
  await active(id, at)
  // A session from before the sign-in instant was stored gets it beside the activity.
  const since = at - 10_000
  t.equal(kept(await store.recordActivity(id, at, 60, since)), at)
  t.equal(await raw(id), `{"_session_security":"${iso(at)}","_session_security_since":${since},"user":"ann"}`)
  // Never replaced, by any later instant.
  t.equal(kept(await store.recordActivity(id, at + 1000, 60, since + 5000)), at + 1000)
  t.equal(await raw(id), `{"_session_security":"${iso(at + 1000)}","_session_security_since":${since},"user":"ann"}`)

  // Not added twice when the session holds it elsewhere (written by another serializer): JSON
  // parsers differ on duplicate names (JSON.parse keeps the last, others the first, which would
  // restart the absolute timeout). The store may leave it as it is, or answer foreign so that the
  // plugin saves the whole session in the store's form.
  const elsewhere = `{"_session_security":"${iso(at)}","user":"ann","_session_security_since":${since}}`
  await client.set(`sess:${id}`, elsewhere)
  const result = await store.recordActivity(id, at, 60, Date.now())
  t.ok(result.status === 'recorded' || result.status === 'foreign', result.status)
  t.equal(count(await raw(id) as string, `"${SINCE}"`), 1, 'one sign-in instant')
  t.equal(JSON.parse(await raw(id) as string)[SINCE], since, 'the first one')

  // One in the future (a server with a fast clock) is capped at TIME.
  const id2 = sid()
  await signIn(id2)
  const before = await redisNow()
  await store.recordActivity(id2, Date.now(), 60, Date.now() + 24 * HOUR)
  const stored = JSON.parse(await raw(id2) as string)[SINCE]
  t.ok(stored >= before && stored <= await redisNow(), `${stored} capped at TIME`)
})

t.test('recordActivity keeps the later activity (max rule), and rewrites only when it moved', async t => {
  const id = sid()
  const stored = Date.now() - 10_000
  await active(id, stored)
  const before = await raw(id)

  const older = stored - 60_000
  const statsBefore = await redis.commandStats()
  t.equal(kept(await store.recordActivity(id, older, 60)), stored, 'an older activity does not move it back')
  const statsAfter = await redis.commandStats()
  t.equal(await raw(id), before, 'unchanged')
  t.equal((statsAfter.set ?? 0) - (statsBefore.set ?? 0), 0, 'no SET when the value did not move')
  t.equal((statsAfter.pexpire ?? 0) - (statsBefore.pexpire ?? 0), 1, 'only the TTL is refreshed')
  t.equal((statsAfter.evalsha ?? 0) + (statsAfter.eval ?? 0) - (statsBefore.evalsha ?? 0) - (statsBefore.eval ?? 0), 1, 'one script call')

  const newer = stored + 5000
  t.equal(kept(await store.recordActivity(id, newer, 60)), newer)
  t.equal(await raw(id), `{"_session_security":"${iso(newer)}${before?.slice(46)}`, 'spliced in place')
  t.same(await store.get(id), { _session_security: iso(newer), user: 'ann' })
})

t.test('an activity later than Redis TIME (a server with a fast clock) is capped at TIME', async t => {
  const id = sid()
  await signIn(id)
  const before = await redisNow()
  const result = kept(await store.recordActivity(id, Date.now() + 24 * HOUR, 60))
  const after = await redisNow()
  t.ok(result >= before && result <= after, `${result} within [${before}, ${after}]`)
  t.equal((await store.get(id))?._session_security, iso(result))
})

t.test('a stored activity in the future counts as Redis TIME', async t => {
  const id = sid()
  await client.set(`sess:${id}`, `{"_session_security":"${iso(Date.now() + 24 * HOUR)}","user":"ann"}`)
  const before = await redisNow()
  const result = kept(await store.recordActivity(id, Date.now() - 60_000, 60))
  const after = await redisNow()
  t.ok(result >= before && result <= after, `${result} within [${before}, ${after}]: the future value was rewritten`)
  t.equal(await raw(id), `{"_session_security":"${iso(result)}","user":"ann"}`)

  // A valid date far ahead (2096-02-29 exists) is capped too; 2100-02-29 does not exist.
  await client.set(`sess:${id}`, '{"_session_security":"2096-02-29T00:00:00.000Z","user":"ann"}')
  const capped = kept(await store.recordActivity(id, 0, 60))
  t.ok(capped >= before && capped <= await redisNow())
  await client.set(`sess:${id}`, '{"_session_security":"2100-02-29T00:00:00.000Z","user":"ann"}')
  t.equal((await store.recordActivity(id, Date.now(), 60)).status, 'foreign', 'an impossible date is not guessed at')
})

t.test('the Lua date conversion agrees with toISOString', async t => {
  const now = Date.now()
  const samples = [
    0, 1, 999, 86_399_999, 86_400_000, Date.UTC(1972, 1, 29, 23, 59, 59, 999), Date.UTC(2000, 1, 29),
    Date.UTC(2000, 2, 1), Date.UTC(1999, 11, 31, 23, 59, 59, 999), Date.UTC(2024, 1, 29, 12), Date.UTC(2023, 11, 31),
    Date.UTC(1900, 1, 28), Date.UTC(1900, 2, 1), Date.UTC(1600, 1, 29), -1, -86_400_001,
    new Date('0000-01-01T00:00:00.000Z').getTime(), new Date('0400-02-29T10:20:30.456Z').getTime(), now - 1
  ]
  for (let i = 0; i < 200; i++) samples.push(Math.floor(Math.random() * now))
  const id = sid()
  let wrongFormat = 0
  let wrongParse = 0
  for (const at of samples) {
    // A TTL long enough that the key outlives an activity of year 0 by a minute.
    const ttl = Math.ceil((now - at) / 1000) + 60
    await client.set(`sess:${id}`, '{"x":1}')
    const result = await store.recordActivity(id, at, ttl)
    if (await raw(id) !== `{"_session_security":"${iso(at)}","x":1}` || kept(result) !== at) wrongFormat++
    // Parse: a stored value is read back exactly (an older incoming activity keeps it).
    await client.set(`sess:${id}`, `{"_session_security":"${iso(at)}","x":1}`)
    if (kept(await store.recordActivity(id, at - 1, ttl)) !== at) wrongParse++
  }
  t.equal(wrongFormat, 0, `${samples.length} timestamps formatted as toISOString does`)
  t.equal(wrongParse, 0, `${samples.length} timestamps parsed back exactly`)
})

t.test('recordActivity sets the TTL to ttlSeconds past the resulting activity', async t => {
  const id = sid()
  await signIn(id)
  const initial = await client.ttl(`sess:${id}`)
  t.ok(initial > 590 && initial <= 600, `a new key lives the store's ttl (600 s) until its first activity: ${initial}`)
  await store.recordActivity(id, Date.now(), 10)
  let pttl = await client.pttl(`sess:${id}`)
  t.ok(pttl > 9000 && pttl <= 10_000, `PTTL ${pttl} follows the idle timeout`)

  // The key lives ttlSeconds past the activity itself, so an older merged activity shortens it.
  const id2 = sid()
  await signIn(id2)
  await store.recordActivity(id2, Date.now() - 4000, 10)
  pttl = await client.pttl(`sess:${id2}`)
  t.ok(pttl > 5000 && pttl <= 6000, `PTTL ${pttl}: 10 s past an activity 4 s ago`)

  // Unchanged activity still refreshes the TTL (a new ttlSeconds can come with it).
  await store.recordActivity(id2, Date.now() - 60_000, 30)
  pttl = await client.pttl(`sess:${id2}`)
  t.ok(pttl > 25_000 && pttl <= 26_000, `PTTL ${pttl}`)

  // Fractional seconds are rounded up.
  await store.recordActivity(id2, Date.now(), 12.2)
  pttl = await client.pttl(`sess:${id2}`)
  t.ok(pttl > 12_000 && pttl <= 13_000, `PTTL ${pttl} for 12.2 s`)

  // Activity so old that the key should already be gone leaves it 1 ms to live.
  const id3 = sid()
  const hourAgo = Date.now() - HOUR
  await client.set(`sess:${id3}`, `{"_session_security":"${iso(hourAgo)}"}`)
  t.equal(kept(await store.recordActivity(id3, 0, 10)), hourAgo)
  await sleep(20)
  t.equal(await raw(id3), null, 'expired at once')
})

t.test('foreign formats are not guessed at: recordActivity answers foreign and writes nothing', async t => {
  const id = sid()
  const cases = [
    `{"user":"ann","_session_security":"${iso(Date.now())}"}`,
    '{"user":{"_session_security":"nested"}}',
    '{"_session_security":"yesterday","user":"ann"}',
    '{"_session_security":1700000000000,"user":"ann"}',
    `{"_session_security":"${iso(Date.now()).replace('Z', '+00:00')}","user":"ann"}`,
    '[1,2,3]',
    '"a string"',
    '42'
  ]
  for (const json of cases) {
    await client.set(`sess:${id}`, json, 'EX', 100)
    const result = await store.recordActivity(id, Date.now(), 60, Date.now())
    t.same(result, { status: 'foreign', now: result.now }, json)
    t.equal(await raw(id), json, 'unchanged')
    t.ok(await client.ttl(`sess:${id}`) > 90, 'TTL unchanged')
  }
})

t.test('a session saved with the sign-in instant and no activity (a rotated id) gets the activity in front', async t => {
  const id = sid()
  const since = Date.now() - 9000
  await store.set(id, { [SINCE]: since, user: 'ann' })
  t.equal(await raw(id), `{"${SINCE}":${since},"user":"ann"}`, 'the serializer puts the instant first')
  const at = Date.now() - 10
  const result = await store.recordActivity(id, at, 30, Date.now())
  t.equal(result.status, 'recorded')
  t.equal(await raw(id), `{"${ACTIVITY}":"${iso(at)}","${SINCE}":${since},"user":"ann"}`, 'the stored instant stays')
  t.ok(await client.pttl(`sess:${id}`) <= 30_000, 'the idle TTL')
  for (const json of [`{"${SINCE}":${since},"user":{"${ACTIVITY}":"x"}}`, `{"${SINCE}":"${since}","user":"ann"}`, `{"${SINCE}":${since}.5}`]) {
    await client.set(`sess:${id}`, json, 'EX', 100)
    t.equal((await store.recordActivity(id, Date.now(), 60, Date.now())).status, 'foreign', `${json}: not guessed at`)
    t.equal(await raw(id), json, 'unchanged')
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
  t.equal(kept(await store.recordActivity(id, first + 1000, 60)), first + 1000)
  t.equal(await raw(id), `{"_session_security":"${iso(first + 1000)}"${rest}`, 'splice keeps every byte')
  t.equal(kept(await store.recordActivity(id, first, 60)), first + 1000)
  t.equal(await raw(id), `{"_session_security":"${iso(first + 1000)}"${rest}`)
  // With the sign-in instant spliced in too.
  const since = first - 1000
  t.equal(kept(await store.recordActivity(id, first + 2000, 60, since)), first + 2000)
  t.equal(await raw(id), `{"_session_security":"${iso(first + 2000)}","_session_security_since":${since}${rest}`)

  // Insert without the field: the rest is kept byte for byte too (no nested field in this JSON).
  const plain = '{"big":12345678901234567890123,"arr":[],"u":"😀 \\u00e9","q":"\\"x\\\\"}'
  await client.set(`sess:${id}`, plain)
  t.equal(kept(await store.recordActivity(id, first, 60, since)), first)
  t.equal(await raw(id), `{"_session_security":"${iso(first)}","_session_security_since":${since},${plain.slice(1)}`)

  // A whole-session save merges the activity without touching the rest of what it writes.
  await client.set(`sess:${id}`, `{"_session_security":"${iso(first + 5000)}","x":1}`)
  const sess = { _session_security: iso(first), arr: [], big: 2 ** 60, u: 'é😀"\\', nested: { _session_security: 'x' } }
  await store.set(id, sess)
  t.equal(await raw(id), sessionSerializer.stringify({ ...sess, _session_security: iso(first + 5000) }))
})

t.test('set on an existing key keeps the later activity and the TTL', async t => {
  const id = sid()
  const stored = Date.now() - 5000
  await active(id, stored, { user: 'ann' }, 20)

  // A slow request saves the session it loaded earlier, with an older activity and a new app key.
  await store.set(id, { _session_security: iso(stored - 30_000), user: 'ann', cart: [1] })
  t.same(await store.get(id), { _session_security: iso(stored), user: 'ann', cart: [1] }, 'activity not moved back')
  const pttl = await client.pttl(`sess:${id}`)
  t.ok(pttl > 10_000 && pttl <= 15_000, `PTTL ${pttl}: the TTL that the activity write set is kept`)

  // A later activity written meanwhile by another request is kept too. (A little in the past, so
  // that later + 1 below is not ahead of Redis's clock, which caps it.)
  const later = Date.now() - 100
  await store.recordActivity(id, later, 20)
  await store.set(id, { _session_security: iso(stored), [SINCE]: stored - 1000, user: 'ann' })
  t.equal(await raw(id), `{"_session_security":"${iso(later)}","_session_security_since":${stored - 1000},"user":"ann"}`)

  // A newer activity in the save wins, capped at Redis TIME.
  await store.set(id, { _session_security: iso(later + 1), user: 'ann' })
  t.equal((await store.get(id))?._session_security, iso(later + 1))
  const before = await redisNow()
  await store.set(id, { _session_security: iso(Date.now() + HOUR), user: 'ann' })
  const saved = Date.parse((await store.get(id))?._session_security as string)
  t.ok(saved >= before && saved <= await redisNow(), 'capped at TIME')

  // A save without the field (the application removed it) is written as it is.
  await store.set(id, { user: 'bob' })
  t.equal(await raw(id), '{"user":"bob"}')

  // A stored field that this store did not write is replaced by the saved one.
  await client.set(`sess:${id}`, `{"user":"x","_session_security":"${iso(Date.now())}"}`, 'KEEPTTL')
  await store.set(id, { _session_security: iso(stored), user: 'ann' })
  t.equal(await raw(id), `{"_session_security":"${iso(stored)}","user":"ann"}`)
  const kept2 = await client.pttl(`sess:${id}`)
  t.ok(kept2 > 15_000 && kept2 <= 20_000, `TTL still the last activity write's: PTTL ${kept2}`)
})

t.test('set on a new key: the store\'s ttl (a persistent cookie changes nothing)', async t => {
  const id = sid()
  await store.set(id, { user: 'ann' })
  t.equal(await client.ttl(`sess:${id}`), 600, 'default 600 s')
  const id1 = sid()
  await store.set(id1, { user: 'ann', cookie: { expires: new Date(Date.now() + 30 * 24 * HOUR) } })
  t.equal(await client.ttl(`sess:${id1}`), 600, 'not the cookie\'s 30 days')
  const id2 = sid()
  await store.set(id2, { user: 'ann', cookie: { expires: new Date(Date.now() - 1000) } })
  t.equal(await client.ttl(`sess:${id2}`), 600, 'an expired cookie is the plugin\'s business, not the store\'s')

  // A new key's activity in the future is capped too.
  const id3 = sid()
  await store.set(id3, { _session_security: iso(Date.now() + HOUR), user: 'ann' })
  t.ok(Date.parse((await store.get(id3))?._session_security as string) <= await redisNow())

  const short = new SessionSecurityStore({ client, ttl: 12.5 })
  const id4 = sid()
  await short.set(id4, { user: 'ann' })
  t.equal(await client.ttl(`sess:${id4}`), 13, 'ttl rounded up')
  t.equal(short.ttl, 13)
  t.equal(store.ttl, 600)
  t.equal(store.tombstoneTtl, 600)
  t.equal(store.prefix, 'sess:')

  // A session given a new id that kept its activity is created with it.
  const id5 = sid()
  const at = Date.now() - 1000
  await store.set(id5, { user: 'ann', _session_security: iso(at) })
  t.equal(await raw(id5), `{"_session_security":"${iso(at)}","user":"ann"}`)
  t.equal(await client.ttl(`sess:${id5}`), 600)
})

t.test('the prefix names every key the store touches', async t => {
  const other = new SessionSecurityStore({ client, prefix: 'app2:' })
  const id = sid()
  await other.set(id, { user: 'ann' })
  t.equal(await client.exists(`app2:${id}`), 1)
  t.equal(await client.exists(`sess:${id}`), 0)
  const at = Date.now() - 10
  t.equal(kept(await other.recordActivity(id, at, 60)), at)
  t.same(await other.get(id), { _session_security: iso(at), user: 'ann' })
  t.same((await other.end(id, 'idle')), { status: 'ended' })
  t.equal(await client.get(`app2:${id}`), '{"_session_security_ended":"idle"}')
  const empty = new SessionSecurityStore({ client, prefix: '' })
  await empty.set(`bare-${id}`, { user: 'ann' })
  t.equal(await client.exists(`bare-${id}`), 1, 'an empty prefix')
})

t.test('touch is not activity: it changes nothing', async t => {
  const id = sid()
  await signIn(id)
  await client.expire(`sess:${id}`, 50)
  const before = await raw(id)
  t.equal(store.touch(id, { user: 'ann' }), undefined)
  t.same(await viaCallback(cb => store.touch(id, { user: 'bob' }, cb)), { err: null, data: undefined })
  t.equal(await client.ttl(`sess:${id}`), 50)
  t.equal(await raw(id), before)
})

t.test('bad arguments, options and clients are refused with typed errors', async t => {
  await t.rejects(store.recordActivity('x', Number.NaN, 10), TypeError)
  await t.rejects(store.recordActivity('x', Date.now(), 0), TypeError)
  await t.rejects(store.recordActivity('x', Date.now(), -5), TypeError)
  await t.rejects(store.recordActivity('x', Date.now(), Number.POSITIVE_INFINITY), TypeError)
  await t.rejects(store.recordActivity('x', Date.now(), 10, Number.NaN), TypeError)
  t.equal(await client.exists('sess:x'), 0, 'nothing written')

  const invalid = { code: 'FST_SESSION_SECURITY_INVALID_OPTION' }
  t.throws(() => new SessionSecurityStore({ client: { get () {} } as never }), { ...invalid, message: /client.*ioredis/ }, 'not ioredis')
  t.throws(() => new SessionSecurityStore({} as never), { ...invalid, message: /client/ })
  t.throws(() => new SessionSecurityStore(undefined as never), invalid)
  t.throws(() => new SessionSecurityStore({ client, prefix: 1 } as never), { ...invalid, message: /prefix/ })
  for (const ttl of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '10', () => 42]) {
    t.throws(() => new SessionSecurityStore({ client, ttl: ttl as never }), { ...invalid, message: /ttl/ }, `ttl ${String(ttl)}`)
    t.throws(() => new SessionSecurityStore({ client, tombstoneTtl: ttl as never }), { ...invalid, message: /tombstoneTtl/ }, `tombstoneTtl ${String(ttl)}`)
  }
  const thrown = t.throws(() => new SessionSecurityStore({ client, ttl: 0 }), 'an invalid option throws')
  t.ok(thrown instanceof InvalidOptionError, 'an InvalidOptionError')
  t.ok(thrown instanceof TypeError, 'and a TypeError')
})

t.test('Redis errors reject, or go to the callback; nothing is half-written', async t => {
  const id = sid()
  await client.hset(`sess:${id}`, 'a', '1')
  await t.rejects(store.recordActivity(id, Date.now(), 10), /WRONGTYPE/)
  await t.rejects(store.set(id, { user: 'ann' }), /WRONGTYPE/)
  t.match((await viaCallback(cb => store.set(id, { user: 'ann' }, cb))).err, /WRONGTYPE/)
  await t.rejects(store.get(id), /WRONGTYPE/)
  t.match((await viaCallback(cb => store.get(id, cb))).err, /WRONGTYPE/)
  await t.rejects(store.destroy(id), /WRONGTYPE/)
  t.match((await viaCallback(cb => store.destroy(id, cb))).err, /WRONGTYPE/)
  await t.rejects(store.end(id, 'idle'), /WRONGTYPE/)
  t.same(await client.hgetall(`sess:${id}`), { a: '1' })

  // A value that is not JSON: get fails, it does not guess.
  const bad = sid()
  await client.set(`sess:${bad}`, 'not json')
  await t.rejects(store.get(bad), SyntaxError)
  t.type((await viaCallback(cb => store.get(bad, cb))).err, SyntaxError)
})

t.test('a client that throws in get, or whose thenable calls back twice, reaches the callback once', async t => {
  const boom = new Error('client threw')
  const throwing = new SessionSecurityStore({ client: { defineCommand () {}, get () { throw boom } } as never })
  const calls: unknown[] = []
  await throwing.get(sid(), (err: unknown) => { calls.push(err) })
  t.same(calls, [boom], 'the error, once, to the callback')
  await t.rejects(throwing.get(sid()), boom)

  const twice = { then (resolve: (v: string) => void, reject: (e: Error) => void) { resolve('{"user":"ann"}'); resolve('{"user":"bob"}'); reject(boom) } }
  const unruly = new SessionSecurityStore({ client: { defineCommand () {}, get: () => twice } as never })
  const seen: unknown[] = []
  await unruly.get(sid(), (err: unknown, data: unknown) => { seen.push([err, data]) })
  t.same(seen, [[null, { user: 'ann' }]], 'the first answer, once')
})

t.test('destroy leaves a tombstone of at most 64 bytes that says logout, and it expires after tombstoneTtl', async t => {
  const id = sid()
  await active(id, Date.now(), { user: 'a-user-name-that-the-marker-must-not-carry', cart: ['x'.repeat(100)] })
  await store.destroy(id)
  const marker = await raw(id) as string
  t.equal(marker, '{"_session_security_ended":"logout"}')
  t.ok(Buffer.byteLength(marker) <= 64, `${Buffer.byteLength(marker)} bytes`)
  t.notMatch(marker, /user|cart/, 'no session data in the marker')
  t.equal(await client.ttl(`sess:${id}`), 600, 'tombstoneTtl, 600 s by default')

  // The callback style too.
  const id2 = sid()
  await active(id2, Date.now())
  t.same(await viaCallback(cb => store.destroy(id2, cb)), { err: null, data: undefined })
  t.equal(await raw(id2), marker)

  // Every reason fits in 64 bytes.
  for (const reason of ['logout', 'idle', 'absolute', 'invalid'] as EndReason[]) {
    const id3 = sid()
    await active(id3, Date.now())
    t.same(await store.end(id3, reason), { status: 'ended' })
    const json = await raw(id3) as string
    t.same(JSON.parse(json), { _session_security_ended: reason }, 'valid JSON with the reason')
    t.ok(Buffer.byteLength(json) <= 64, `${reason}: ${Buffer.byteLength(json)} bytes`)
  }

  const brief = new SessionSecurityStore({ client, tombstoneTtl: 1 })
  const id4 = sid()
  await active(id4, Date.now())
  await brief.destroy(id4)
  const pttl = await client.pttl(`sess:${id4}`)
  t.ok(pttl > 0 && pttl <= 1000, `PTTL ${pttl}`)
  await sleep(1100)
  t.equal(await client.exists(`sess:${id4}`), 0, 'gone after tombstoneTtl')
})

t.test('a rotation (set inside destroy\'s callback) is noted on the session object, with the end it found', async t => {
  const realNow = Date.now
  let offset = 0
  Date.now = () => realNow() + offset
  t.teardown(() => { Date.now = realNow })
  /** What @fastify/session's regenerate does: destroy the old id, and save the new one inside its callback. */
  async function rotate (from: string, to: string, sess: Record<string, unknown> = { user: 'ann' }, through = store): Promise<{ rotation: Rotation | undefined, err: unknown }> {
    const { err } = await viaCallback(cb => through.destroy(from, destroyErr => through.set(to, sess, () => cb(destroyErr))))
    return { rotation: rotationOf(sess), err }
  }
  const [live, first, second, ended, renamed, plain, anonymous, kept, late, later] = Array.from({ length: 10 }, sid)

  await active(live, realNow())
  t.same(await rotate(live, first), { rotation: { from: live, endedBefore: undefined }, err: null }, 'a live session')
  t.same(JSON.parse(await raw(first) as string), { user: 'ann' }, 'saved under the new id as usual')
  t.same((await rotate(live, second)).rotation, { from: live, endedBefore: undefined }, 'rotated again at once with its data (a double click): no end')

  await active(ended, realNow())
  await store.end(ended, 'idle')
  t.same((await rotate(ended, renamed)).rotation, { from: ended, endedBefore: 'idle' }, 'ended before the rotation: why')

  await active(plain, realNow())
  await rotate(plain, anonymous, {})
  t.same((await rotate(plain, kept)).rotation, { from: plain, endedBefore: 'logout' }, 'after a rotation that kept no data (a sign-out), a second one finds it ended')

  const outside = { user: 'bob' }
  await store.set(sid(), outside)
  t.equal(rotationOf(outside), undefined, 'a set outside destroy\'s callback is no rotation')
  const same = { user: 'bob' }
  const id = sid()
  await viaCallback(cb => store.destroy(id, () => store.set(id, same, cb)))
  t.equal(rotationOf(same), undefined, 'nor is a set of the id being destroyed')

  offset = 60_000
  t.same((await rotate(live, late)).rotation, { from: live, endedBefore: 'logout' }, 'a minute after its own rotation, a session counts as ended')
  await active(later, realNow())
  t.same((await rotate(later, sid())).rotation, { from: later, endedBefore: undefined }, 'and a new rotation is remembered in its place')

  class FailingDestroy extends SessionSecurityStore {
    override async end (): Promise<EndResult> { throw new Error('Command timed out') }
  }
  const failing = new FailingDestroy({ client })
  const attempt = await rotate(sid(), sid(), { user: 'ann' }, failing)
  t.match(attempt, { rotation: { endedBefore: 'logout' }, err: /timed out/ }, 'a destroy that failed: the error, and the rotation counts as of an ended session')
})

t.test('get reads a tombstone as no session; endedReason() says why, only inside get\'s callback', async t => {
  const id = sid()
  await active(id, Date.now())
  await store.end(id, 'idle')
  t.equal(store.endedReason(), undefined, 'outside any get')
  t.equal(await store.get(id), null, 'promise style: null')
  t.equal(store.endedReason(), undefined, 'not after a promise-style get')

  let inside: EndReason | undefined
  const { err, data } = await viaCallback(cb => store.get(id, (e, d) => { inside = store.endedReason(); cb(e, d) }))
  t.same({ err, data }, { err: null, data: null })
  t.equal(inside, 'idle', 'inside the callback')
  t.equal(store.endedReason(), undefined, 'reset when the callback returns')

  // A live session, a missing key and an error have no reason.
  const live = sid()
  await active(live, Date.now())
  const reasons: unknown[] = []
  for (const key of [live, sid()]) await viaCallback(cb => store.get(key, (e, d) => { reasons.push(store.endedReason()); cb(e, d) }))
  const wrong = sid()
  await client.hset(`sess:${wrong}`, 'a', '1')
  await viaCallback(cb => store.get(wrong, (e, d) => { reasons.push(store.endedReason()); cb(e, d) }))
  t.same(reasons, [undefined, undefined, undefined])

  // A marker with a reason this version does not know reads as logout.
  const odd = sid()
  await client.set(`sess:${odd}`, '{"_session_security_ended":"stolen"}', 'EX', 60)
  await viaCallback(cb => store.get(odd, (e, d) => { inside = store.endedReason(); cb(e, d) }))
  t.equal(inside, 'logout')
  const oddResult = await store.recordActivity(odd, Date.now(), 10)
  t.same(oddResult, { status: 'ended', reason: 'logout', now: oddResult.now })

  // Two gets at once: each callback sees its own answer.
  const seen: unknown[] = []
  await Promise.all([id, live].map(key => viaCallback(cb => store.get(key, (e, d) => { seen.push([key, store.endedReason()]); cb(e, d) }))))
  t.same(seen.sort(), [[id, 'idle'], [live, undefined]].sort())
})

t.test('no save and no activity write ever replaces a tombstone', async t => {
  const id = sid()
  const at = Date.now() - 1000
  await active(id, at, { user: 'ann' }, 60)
  await store.destroy(id)
  const marker = await raw(id)
  await client.expire(`sess:${id}`, 300)

  // A request that was in flight when the user signed out saves the session it loaded.
  await store.set(id, { _session_security: iso(Date.now()), [SINCE]: at, user: 'ann', cart: ['book'] })
  t.same(await viaCallback(cb => store.set(id, { user: 'ann' }, cb)), { err: null, data: undefined }, 'no error for the application')
  await store.set(id, {})
  t.equal(await raw(id), marker, 'still the tombstone')

  // Its activity write answers why the session ended.
  const before = await redisNow()
  const result = await store.recordActivity(id, Date.now(), 60, Date.now())
  t.equal(result.status, 'ended')
  t.ok(result.status === 'ended' && result.reason === 'logout', 'reason logout')
  t.ok(result.now >= before, 'with Redis\'s clock')
  t.equal(await raw(id), marker)
  const ttl = await client.ttl(`sess:${id}`)
  t.ok(ttl > 290 && ttl <= 300, `TTL untouched: ${ttl}`)
  t.equal(await store.get(id), null)
  t.equal(store.touch(id, {}), undefined)
  t.equal(await raw(id), marker)
})

t.test('end: ended once, then already-ended with the first reason; gone on a missing key, which still gets a tombstone', async t => {
  const id = sid()
  await active(id, Date.now())
  t.same(await store.end(id, 'idle'), { status: 'ended' })
  t.same(await store.end(id, 'absolute'), { status: 'already-ended', reason: 'idle' })
  await store.destroy(id)
  t.same(await store.end(id, 'logout'), { status: 'already-ended', reason: 'idle' }, 'destroy kept the first reason')
  t.equal(await raw(id), '{"_session_security_ended":"idle"}')

  const missing = sid()
  t.same(await store.end(missing, 'absolute'), { status: 'gone' })
  t.equal(await raw(missing), '{"_session_security_ended":"absolute"}', 'a tombstone all the same')
  t.equal(await client.ttl(`sess:${missing}`), 600)
  await store.set(missing, { user: 'ann' })
  t.equal(await raw(missing), '{"_session_security_ended":"absolute"}', 'so no in-flight save creates it')
  t.same(await store.end(missing, 'logout'), { status: 'already-ended', reason: 'absolute' })

  // Of 20 requests ending one session at once, exactly one ends it.
  for (let round = 0; round < 5; round++) {
    const race = sid()
    await active(race, Date.now())
    const reasons: EndReason[] = ['idle', 'absolute', 'invalid', 'logout']
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.end(race, reasons[i % 4])))
    const winners = results.filter(r => r.status === 'ended')
    t.equal(winners.length, 1, `round ${round}: one ended`)
    const first = results.findIndex(r => r.status === 'ended')
    t.ok(results.every(r => r.status === 'ended' || (r.status === 'already-ended' && r.reason === reasons[first % 4])), 'the others see its reason')
  }
})

t.test('a regenerated session (new id) is saved as usual, the old id stays ended', async t => {
  const old = sid()
  const at = Date.now() - 2000
  await active(old, at, { user: 'ann' })
  // regenerate(): the old id is destroyed, the session is saved under a new id with what it kept.
  await store.destroy(old)
  const fresh = sid()
  await store.set(fresh, { _session_security: iso(at), [SINCE]: at, user: 'ann' })
  t.equal(await raw(fresh), `{"_session_security":"${iso(at)}","_session_security_since":${at},"user":"ann"}`)
  t.equal(await client.ttl(`sess:${fresh}`), 600)
  const later = Date.now() - 10
  t.equal(kept(await store.recordActivity(fresh, later, 30)), later)
  t.ok(await client.pttl(`sess:${fresh}`) <= 30_000, 'its activity write sets the idle TTL')
  t.same(await store.get(fresh), { _session_security: iso(later), [SINCE]: at, user: 'ann' })
  t.equal(await store.get(old), null)
  t.equal((await store.recordActivity(old, Date.now(), 30)).status, 'ended')
})

t.test('the splice keeps valid JSON with one sign-in instant under concurrency', async t => {
  const starts: Array<[string, (id: string) => Promise<unknown>]> = [
    ['saved at sign-in, no activity yet', id => store.set(id, { user: 'ann', list: [], cookie: { path: '/' } })],
    ['activity without a sign-in instant', id => active(id, Date.now() - 5000, { user: 'ann', list: [] })],
    ['both fields', id => store.set(id, { _session_security: iso(Date.now() - 5000), [SINCE]: Date.now() - 9000, user: 'ann' })],
    ['the sign-in instant elsewhere', id => client.set(`sess:${id}`, `{"_session_security":"${iso(Date.now() - 5000)}","user":"ann","_session_security_since":${Date.now() - 9000}}`, 'EX', 60)],
    ['the sign-in instant alone, first', id => store.set(id, { [SINCE]: Date.now() - 9000, user: 'ann' })]
  ]
  for (const [name, start] of starts) {
    let broken = 0
    let sinceCounts = 0
    let moved = 0
    for (let round = 0; round < 10; round++) {
      const id = sid()
      await start(id)
      const base = Date.now()
      const ats = Array.from({ length: 20 }, (_, i) => base - 3000 + (i * 7919) % 3000)
      const calls: Array<() => Promise<unknown>> = ats.map((at, i) => () => store.recordActivity(id, at, 60, base - 60_000 + i))
      // Whole-session saves of the session as a slow request loaded it, in the middle of them.
      if (round % 2 === 1) {
        calls.splice(5, 0, () => store.set(id, { _session_security: iso(base - 4000), user: 'ann', note: 'draft' }))
        calls.splice(12, 0, () => store.set(id, { user: 'ann', note: 'draft 2' }))
      }
      // All sent at once, in this order, before any answer comes back.
      const results = await Promise.all(calls.map(call => call()))
      const json = await raw(id) as string
      let parsed: Record<string, unknown>
      try {
        parsed = JSON.parse(json)
      } catch {
        broken++
        continue
      }
      // Every write recorded and the latest activity kept; or, for a session not in the store's
      // form, every write answered foreign and nothing was written.
      const foreign = round % 2 === 0 && results.every(r => (r as RecordResult).status === 'foreign')
      const activities = count(json, `"${ACTIVITY}"`)
      if (count(json, `"${SINCE}"`) > 1 || activities > 1 || (activities === 0 && !foreign)) sinceCounts++
      const latest = Math.max(...ats)
      if (round % 2 === 0 && !foreign && (parsed[ACTIVITY] !== iso(latest) || results.some(r => (r as RecordResult).status !== 'recorded'))) moved++
    }
    t.equal(broken, 0, `${name}: parseable JSON after 20 concurrent writes, 10 rounds`)
    t.equal(sinceCounts, 0, `${name}: one activity field, at most one sign-in instant`)
    t.equal(moved, 0, `${name}: the latest activity kept, every write recorded (or none, all foreign)`)
  }
})
