// The benchmark's arithmetic, which decides whether a target passes, and where a run lands in RESULTS.md.
import { test } from 'tap'
import { DUELS, duelsFrom, settingsFrom, TARGETS } from '../../benchmarks/config.js'
import {
  busyShare, check, commandsPerRequest, cpuPerRequest, describeBounds, duelRatios, fixed, measures, median, pooledCommandsPerRequest,
  seededRandom, shuffle, signed, spread, throughput, type Counts, type MeasuredDuel
} from '../../benchmarks/stats.js'
import { withSection } from '../../benchmarks/report.js'
import { analyse, OWN_CODE, placeOf, profileTables } from '../../benchmarks/profile.js'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Ratios in floating point: compared to six places. */
const round = (x: number): number => Number(x.toFixed(6))
const counts = (requests: number, cpuMicros: number, commands = requests, seconds = 10): Counts =>
  ({ requests, cpuMicros, seconds, commands, failures: 0 })

test('median takes the middle value, or the mean of the two middle ones, whatever the order', async t => {
  t.equal(median([3, 1, 2]), 2)
  t.equal(median([4, 1, 3, 2]), 2.5)
  t.equal(median([7]), 7)
  t.ok(Number.isNaN(median([])), 'no values: NaN, which no target passes')
  const values = [5, 1, 4]
  median(values)
  t.same(values, [5, 1, 4], 'the input is not sorted in place')
})

test('spread gives the median, the extremes and the count', async t => {
  t.same(spread([0.97, 1.02, 0.99, 1.01]), { median: 1, min: 0.97, max: 1.02, n: 4 })
  t.equal(spread([]).n, 0)
})

test('per-request metrics divide by the requests the server received', async t => {
  const c = counts(80_000, 4_000_000, 80_040, 10)
  t.equal(throughput(c), 8000)
  t.equal(cpuPerRequest(c), 50)
  t.equal(commandsPerRequest(c), 1.0005)
})

test('duel ratios are second over first, duel by duel', async t => {
  const duels = [
    { first: counts(100, 5000), second: counts(94, 5000) },
    { first: counts(200, 10_000), second: counts(200, 10_500) }
  ]
  t.same(duelRatios(duels, throughput).map(round), [0.94, 1])
  t.same(duelRatios(duels, cpuPerRequest).map(round), [1.06383, 1.05])
})

test('commands per request are pooled over every window, not averaged per window', async t => {
  t.equal(round(pooledCommandsPerRequest([counts(100, 0, 110), counts(900, 0, 900)])), 1.01)
})

test('busyShare is the share of one CPU the two servers used over the window', async t => {
  t.equal(round(busyShare({ first: counts(1, 4_500_000, 1, 10), second: counts(1, 5_000_000, 1, 10) })), 0.95)
})

test('check: a target passes inside its bounds, bounds included, and fails outside or on NaN', async t => {
  const cases: Array<[{ atLeast?: number, atMost?: number }, number, string]> = [
    [{ atLeast: 0.97 }, 0.97, 'pass'],
    [{ atLeast: 0.97 }, 0.969, 'FAIL'],
    [{ atMost: 1.03 }, 1.03, 'pass'],
    [{ atMost: 1.03 }, 1.031, 'FAIL'],
    [{ atLeast: 0.99, atMost: 1.01 }, 1.0, 'pass'],
    [{ atLeast: 0.99, atMost: 1.01 }, 0.985, 'FAIL'],
    [{ atLeast: 0.99, atMost: 1.01 }, 1.015, 'FAIL'],
    [{ atMost: 96 }, NaN, 'FAIL'],
    [{}, 1.5, 'info']
  ]
  for (const [target, value, verdict] of cases) t.equal(check(target, value), verdict, `${describeBounds(target) || 'no bounds'}: ${value}`)
})

test('describeBounds writes the bounds as the report shows them', async t => {
  t.equal(describeBounds({ atLeast: 0.99, atMost: 1.01 }), '0.99–1.01')
  t.equal(describeBounds({ atLeast: 0.97 }), '≥ 0.97')
  t.equal(describeBounds({ atMost: 96 }), '≤ 96')
  t.equal(describeBounds({}), '')
})

test('the targets are the ones the benchmark promises', async t => {
  const byMeasure = Object.fromEntries(TARGETS.map(target => [target.measure, describeBounds(target)]))
  t.same(byMeasure, {
    controlThroughput: '0.99–1.01',
    controlCpu: '',
    throughput: '≥ 0.97',
    cpu: '≤ 1.03',
    commandsAdded: '≤ 0.01',
    bytesAdded: '≤ 96'
  })
})

test('measures: ratios by the median of duels, commands pooled, bytes by the largest difference', async t => {
  const duel = (name: MeasuredDuel['name'], first: Counts, second: Counts, bytes = [154, 201]): MeasuredDuel =>
    ({ name, first, second, sessionBytes: { first: bytes[0], second: bytes[1] } })
  const duels = [
    duel('plugin', counts(1000, 50_000), counts(950, 50_000, 951)),
    duel('plugin', counts(1000, 50_000), counts(960, 50_000, 961), [154, 203]),
    duel('plugin', counts(1000, 50_000), counts(900, 50_000, 901)),
    duel('control', counts(1000, 50_000), counts(1010, 50_000)),
    duel('control', counts(1000, 50_000), counts(990, 50_000))
  ]
  const m = measures(duels)
  t.equal(round(m.throughput.value), 0.95)
  t.same([round(m.throughput.spread.min), round(m.throughput.spread.max), m.throughput.spread.n], [0.9, 0.96, 3])
  t.equal(round(m.cpu.value), round(1000 / 950), 'CPU per request goes up as requests go down for the same CPU time')
  t.equal(round(m.controlThroughput.value), 1, 'only the control duels make the control ratio')
  t.equal(m.controlThroughput.spread.n, 2)
  t.equal(round(m.commandsAdded.value), round(2813 / 2810 - 1))
  t.equal(m.bytesAdded.value, 49)
  t.same([m.bytesAdded.spread.min, m.bytesAdded.spread.max], [47, 49])
})

test('seededRandom repeats for a seed and differs between seeds', async t => {
  const draw = (seed: number): number[] => { const r = seededRandom(seed); return [r(), r(), r()] }
  t.same(draw(1), draw(1))
  t.not(draw(1)[0], draw(2)[0])
  t.ok(draw(7).every(x => x >= 0 && x < 1))
})

test('shuffle returns a permutation of a copy, the same one for the same seed', async t => {
  const items = Array.from({ length: 16 }, (_, i) => i)
  const once = shuffle(items, seededRandom(3))
  t.same([...once].sort((a, b) => a - b), items, 'every item, once')
  t.same(items, Array.from({ length: 16 }, (_, i) => i), 'the input is left alone')
  t.same(shuffle(items, seededRandom(3)), once)
  t.notSame(once, items, 'the order changes')
})

test('a run replaces its own section of RESULTS.md and adds a new one before the bench:next marker', async t => {
  const file = '# Results\n\n<!-- bench:before -->\nold\n<!-- /bench:before -->\n\nnotes\n\n<!-- bench:next -->\n\n## Earlier\n'
  t.equal(withSection(file, 'before', 'new'), file.replace('\nold\n', '\nnew\n'))
  t.equal(withSection(file, 'after', 'run'),
    file.replace('<!-- bench:next -->', '<!-- bench:after -->\nrun\n<!-- /bench:after -->\n\n<!-- bench:next -->'))
  t.equal(withSection('# Results\n', 'latest', 'run'), '# Results\n\n<!-- bench:latest -->\nrun\n<!-- /bench:latest -->\n')
})

test('BENCH_PAIR runs two servers of config.ts against each other, with the first against itself as the control', async t => {
  t.equal(duelsFrom({}), DUELS, 'without it: A against B and A against A′')
  t.equal(duelsFrom({ BENCH_PAIR: '' }), DUELS)
  const [pair, control] = duelsFrom({ BENCH_PAIR: 'fields,fields-hidden' })
  t.match(pair, { name: 'plugin', first: { id: 'A', server: 'fields' }, second: { id: 'B', server: 'fields-hidden' } })
  t.match(control, { name: 'control', first: { id: 'A', server: 'fields' }, second: { id: 'A′', server: 'fields' } })
  for (const bad of ['fields', 'fields,nope', 'fields,hidden,plugin', 'toString,plugin']) {
    t.throws(() => duelsFrom({ BENCH_PAIR: bad }), /BENCH_PAIR must be two of baseline, plugin, fields, fields-hidden, hidden, fields-apart/, bad)
  }
  t.equal(duelsFrom({ BENCH_PAIR: 'baseline,plugin' }), DUELS, 'the baseline against the plugin is the normal run')
  t.equal(settingsFrom({ BENCH_PAIR: 'baseline,plugin' }).ablation, false)
  t.equal(settingsFrom({ BENCH_PAIR: 'baseline,plugin' }).section, 'latest')
  t.equal(settingsFrom({ BENCH_PAIR: 'plugin,baseline' }).ablation, true, 'the other way round is an ablation')
  t.equal(settingsFrom({}).ablation, false)
  t.equal(settingsFrom({}).section, 'latest', 'a full run writes its section')
  t.equal(settingsFrom({ BENCH_PAIR: 'baseline,hidden' }).section, '', 'an ablation run writes nothing by default')
  t.equal(settingsFrom({ BENCH_PAIR: 'baseline,hidden', BENCH_SECTION: 'ablation' }).section, 'ablation')
})

test('a profile is summed by where the code comes from: the plugin\'s files, each package, Node.js, native functions', async t => {
  const frame = (url: string, functionName = 'f'): { functionName: string, url: string, lineNumber: number } => ({ functionName, url, lineNumber: 0 })
  t.equal(placeOf(frame('file:///x/benchmarks/.build/lib/store.js')), OWN_CODE)
  t.equal(placeOf(frame('file:///x/benchmarks/.build/index.js')), OWN_CODE)
  t.equal(placeOf(frame('file:///x/node_modules/@fastify/session/lib/session.js')), '@fastify/session')
  t.equal(placeOf(frame('file:///x/node_modules/ioredis/node_modules/debug/src/x.js')), 'debug', 'the innermost package')
  t.equal(placeOf(frame('file:///x/node_modules/.pnpm/@a+b@1/node_modules/@a/b/x.js')), '@a/b')
  t.equal(placeOf(frame('node:internal/crypto/hash')), 'Node.js (its JavaScript)')
  t.equal(placeOf(frame('', '(garbage collector)')), 'native: (garbage collector)')
  t.equal(placeOf(frame('file:///x/benchmarks/.build/benchmarks/server.js')), 'benchmarks/server.js')

  const dir = mkdtempSync(join(tmpdir(), 'profile-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  // Self time: node 2 (a package) 30 µs, node 3 (the plugin) 10 µs, node 4 idle 50 µs; 10 requests.
  const write = (name: string, ownFile: string): string => {
    const path = join(dir, name)
    writeFileSync(path, JSON.stringify({
      nodes: [
        { id: 1, callFrame: frame('', '(root)') },
        { id: 2, callFrame: frame('file:///x/node_modules/ioredis/built/Redis.js', 'sendCommand') },
        { id: 3, callFrame: frame(ownFile, 'track') },
        { id: 4, callFrame: frame('', '(idle)') }
      ],
      samples: [2, 3, 4, 2],
      timeDeltas: [10, 10, 50, 20]
    }))
    writeFileSync(`${path}.requests.json`, JSON.stringify({ requests: 10 }))
    return path
  }
  const a = analyse(write('a.cpuprofile', 'file:///x/server.js'))
  const b = analyse(write('b.cpuprofile', 'file:///x/benchmarks/.build/lib/hook.js'))
  t.equal(b.busy, 40, 'idle time is not busy')
  t.same([...b.byPlace], [['ioredis', 30], [OWN_CODE, 10]])
  t.same([...b.own], [['track lib/hook.js:1', 10]])
  t.same([...a.own], [], 'a server without the plugin has no own functions')
  const text = profileTables(a, b).join('\n')
  t.match(text, `| ${OWN_CODE} | 0.00 | 1.00 | +1.00 | 0.00 % | 25.00 % |`)
  t.match(text, '| ioredis | 3.00 | 3.00 | +0.00 | 75.00 % | 75.00 % |')
  t.ok(text.indexOf(`| ${OWN_CODE} |`) < text.indexOf('| ioredis |'), 'the largest difference first')
  t.ok(text.indexOf('| file:///x/server.js |') < text.indexOf('| ioredis |'), 'a difference of either sign before a smaller one')
  t.match(text, /\| file:\/\/\/x\/server\.js \| 1\.00 \| 0\.00 \| -1\.00 \|/, 'a place that only A has: a negative difference')
  t.match(text, '| `track lib/hook.js:1` | 1.00 | 25.00 % |')
  t.match(profileTables(b, a).join('\n'), '| (none: B does not load the plugin) | | |')
})

test('numbers in the report: fixed decimals, n/a for what cannot be computed, a sign on differences but never -0', async t => {
  t.equal(fixed(1.23456, 3), '1.235')
  t.equal(fixed(Number.NaN, 3), 'n/a')
  t.equal(fixed(Infinity, 2), 'n/a')
  t.equal(signed(0.0012, 4), '+0.0012')
  t.equal(signed(-0.0012, 4), '-0.0012')
  t.equal(signed(-0.00001, 4), '+0.0000', 'a difference that rounds to zero')
  t.equal(signed(0, 2), '+0.00')
  t.equal(signed(Number.NaN, 4), 'n/a')
})
