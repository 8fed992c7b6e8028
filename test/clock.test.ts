// The activity clock reads exactly what toISOString() writes, and refuses everything else.
import { test } from 'tap'
import { formatActivity, idleSeconds, parseActivity, SharedClock } from '../lib/clock.js'

test('parseActivity reads what formatActivity writes, for any time', async t => {
  let wrong = 0
  let seed = 42
  const samples = [0, -1, Date.UTC(2000, 1, 29, 23, 59, 59, 999), -62_135_596_800_000, new Date('0050-03-01T00:00:00.000Z').getTime(), Date.UTC(2024, 1, 29), Date.UTC(2100, 1, 28, 12), Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.now()]
  for (let i = 0; i < 2000; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    samples.push(Math.floor((seed / 2 ** 31) * Date.UTC(9999, 11, 31)))
  }
  for (const at of samples) if (parseActivity(formatActivity(at)) !== at) wrong++
  t.equal(wrong, 0, `${samples.length} timestamps round-trip exactly`)
  t.equal(parseActivity('2026-11-22T13:00:00.000Z'), Date.UTC(2026, 10, 22, 13))
  t.equal(parseActivity('0050-03-01T00:00:00.000Z'), Date.parse('0050-03-01T00:00:00.000Z'), 'years below 100 are not 19xx')
})

test('parseActivity refuses anything that is not that exact form or not a real date', async t => {
  const bad: unknown[] = [
    undefined, null, 1_700_000_000_000, {}, ['2026-11-22T13:00:00.000Z'], '', 'yesterday',
    '2026-11-22', '2026-11-22T13:00:00Z', '2026-11-22T13:00:00.000+00:00', '2026-11-22 13:00:00.000Z',
    '2026-11-22T13:00:00.000z', '2026/11/22T13:00:00.000Z', '2026-11-22T13:00:00,000Z', '2026-11-22T13-00:00.000Z',
    '2026-11-22T13:00-00.000Z', '2026-11-22X13:00:00.000Z', '+26-11-22T13:00:00.000Z', '2026-1a-22T13:00:00.000Z',
    '2026-00-10T00:00:00.000Z', '2026-13-10T00:00:00.000Z', '2026-11-00T00:00:00.000Z', '2026-11-31T00:00:00.000Z',
    '2026-02-29T00:00:00.000Z', '2100-02-29T00:00:00.000Z', '2026-11-22T24:00:00.000Z', '2026-11-22T23:60:00.000Z',
    '2026-11-22T23:59:60.000Z', '2026-11-22T13:00:00.0000', '2026-11-22T13:00:00.00aZ', ' 2026-11-22T13:00:00.000Z'
  ]
  for (const value of bad) t.ok(Number.isNaN(parseActivity(value)), JSON.stringify(value) ?? String(value))
  t.equal(parseActivity('2024-02-29T00:00:00.000Z'), Date.UTC(2024, 1, 29), 'leap day in a leap year')
  t.equal(parseActivity('2000-02-29T00:00:00.000Z'), Date.UTC(2000, 1, 29), 'leap day in a year divisible by 400')
})

test('idleSeconds counts whole seconds with no wrap at 24 hours', async t => {
  t.equal(idleSeconds(10_999, 0), 10)
  t.equal(idleSeconds(90_000_500, 0), 90_000)
})

test('SharedClock: one TIME for concurrent callers, an offset from the round trip, stale after maxAgeMs', async t => {
  const clock = new SharedClock(50)
  t.ok(clock.stale(), 'never measured: stale')
  let asked = 0
  let answer: (remoteNow: number) => void = () => {}
  const source = {
    time: async (): Promise<number> => {
      asked++
      return await new Promise<number>(resolve => { answer = resolve })
    }
  }
  const first = clock.sync(source)
  const second = clock.sync(source)
  t.equal(second, first, 'a caller during a TIME in flight shares it')
  await new Promise(resolve => setImmediate(resolve))
  answer(Date.now() + 30_000)
  await Promise.all([first, second])
  t.equal(asked, 1, 'one TIME for both')
  t.ok(Math.abs(clock.now() - (Date.now() + 30_000)) < 1000, 'now() is on the remote clock')
  t.notOk(clock.stale(), 'just measured: fresh')
  await clock.sync({ time: async () => { asked++; return Date.now() } })
  t.equal(asked, 2, 'after it settled, the next sync asks again')
  await new Promise(resolve => setTimeout(resolve, 60))
  t.ok(clock.stale(), 'older than maxAgeMs: stale')
  const failing = clock.sync({ time: async () => { throw new Error('down') } })
  await t.rejects(failing, /down/, 'a failed TIME rejects its callers')
  t.not(clock.sync({ time: async () => Date.now() }), failing, 'and is not shared afterwards')
  clock.reset()
  t.ok(clock.stale(), 'reset: stale again')
  t.ok(Math.abs(clock.now() - Date.now()) < 1000, 'reset: this server\'s clock')
})
