// `npm run bench`: what fastify-session-security costs per request, side by side.
//
// Each configuration gets its own redis-server (free loopback port) and its own server process
// (server.ts). autocannon, used as a library from this process, drives one configuration at a
// time. Configurations are interleaved so that a noisy machine affects all alike: each round gives
// every configuration BENCH_DURATION seconds, cut into BENCH_SLICES slices that alternate between
// the configurations (a new random order for each group of slices), so every configuration's
// round spans the same stretch of time; each round starts new server processes. For each slice
// the driver takes, before and after:
//   - the server's process.cpuUsage() and the count of commands its ioredis client sent (over IPC);
//   - Redis's INFO commandstats.
// It prints progress on stderr and a markdown report on stdout.
//
// Settings (environment): BENCH_ROUNDS (5), BENCH_DURATION seconds per configuration and round (8),
// BENCH_SLICES per round (8), BENCH_WARMUP seconds per server before each round (2),
// BENCH_RESTART=0 (keep one server process per configuration for the whole run; by default each
// round starts new ones), BENCH_SEED (1; the random order of the slices),
// BENCH_CONNECTIONS (10), BENCH_FILL sessions for E (100000), BENCH_ONLY (e.g. "A,B"),
// BENCH_PROFILE=1 (servers run with --cpu-prof into benchmarks/.build/profiles/),
// BENCH_OUT=<file> (also write the report there).
import { fork, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startRedis, type BenchRedis, type CommandStat } from './redis.js'
import type { DriverMessage, Sample, ServerKind, ServerMessage } from './server.js'

// ---------------------------------------------------------------------------------------------
// Settings and configurations

function envNumber (name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number >= 0, got ${raw}`)
  return value
}

const ROUNDS = envNumber('BENCH_ROUNDS', 5)
const DURATION = envNumber('BENCH_DURATION', 8)
const SLICES = Math.max(1, Math.round(envNumber('BENCH_SLICES', 8)))
const SLICE_SECONDS = DURATION / SLICES
const WARMUP = envNumber('BENCH_WARMUP', 2)
const CONNECTIONS = envNumber('BENCH_CONNECTIONS', 10)
const FILL = envNumber('BENCH_FILL', 100_000)
const PROFILE = process.env.BENCH_PROFILE === '1'
/** A new server process per configuration for each round (BENCH_RESTART=0: one process for the run). */
const RESTART = process.env.BENCH_RESTART !== '0'
const SEED = envNumber('BENCH_SEED', 1)
/** No run may outlive this, whatever hangs. */
const MAX_MINUTES = envNumber('BENCH_MAX_MINUTES', 20)

const here = dirname(fileURLToPath(import.meta.url))
/** benchmarks/.build/benchmarks/ -> benchmarks/.build/ */
const buildRoot = join(here, '..')
const repoRoot = join(buildRoot, '..', '..')
const PING = '/session_security/ping/'

interface Config {
  id: string
  label: string
  server: ServerKind
  path: string
  fill: number
}

const CONFIGS: Config[] = [
  { id: 'A', label: '@fastify/session + RedisStore, rolling: false (baseline)', server: 'baseline', path: '/page', fill: 0 },
  { id: 'B', label: 'A + fastify-session-security', server: 'plugin', path: '/page', fill: 0 },
  { id: 'C', label: '@fastify/session defaults (rolling: true), no plugin', server: 'rolling', path: '/page', fill: 0 },
  { id: 'D1', label: `ping \`${PING}\`, no merge`, server: 'plugin', path: PING, fill: 0 },
  { id: 'D2', label: `ping \`${PING}?idleFor=0\` (merge)`, server: 'plugin', path: `${PING}?idleFor=0`, fill: 0 },
  { id: 'E', label: `B with ${FILL.toLocaleString('en-US')} sessions in Redis`, server: 'plugin', path: '/page', fill: FILL },
  // A second, identical baseline: how far A′/A strays from 1.00 is the noise of this run.
  { id: 'A′', label: 'A again (control: its ratio to A is the noise of the run)', server: 'baseline', path: '/page', fill: 0 }
]

// ---------------------------------------------------------------------------------------------
// autocannon (CommonJS, no bundled types): the part of its API this driver uses

interface AutocannonOptions {
  url: string
  connections: number
  duration: number
  headers: Record<string, string>
  timeout: number
}
interface AutocannonResult {
  errors: number
  timeouts: number
  non2xx: number
}
interface AutocannonInstance {
  on (event: 'response', listener: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void): void
  stop (): void
}
type Autocannon = (options: AutocannonOptions, done: (err: Error | null, result: AutocannonResult) => void) => AutocannonInstance
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon

// ---------------------------------------------------------------------------------------------
// Targets: one redis-server and one server process per configuration

interface Target {
  config: Config
  redis: BenchRedis
  child: ChildProcess
  port: number
  store: string
  cookie: string
  sessionKey: string
  /** Size of the stored session after login and one page view (STRLEN, or MEMORY USAGE for non-strings). */
  sessionBytes: number
  sessionBytesHow: string
  rounds: RoundResult[]
  /** This round's slices. */
  slices: Slice[]
  /** Every slice of the run; slice i of every configuration belongs to the same group (run back to back). */
  allSlices: Slice[]
  pending: Map<number, (sample: Sample) => void>
}

/** What the server and Redis counted over some load on one configuration. */
interface Counters {
  /** Requests that the server received, in-flight ones at the end included: the denominator of CPU and Redis commands per request. */
  requests: number
  cpuMicros: number
  /** User-mode part of cpuMicros: the plugin's own work is all here; system time is the socket writes. */
  userMicros: number
  sentCommands: number
  stats: Map<string, CommandStat>
  errors: number
  non2xx: number
}

/** One slice of load on one configuration, with the server's and Redis's counters around it. */
interface Slice extends Counters {
  /** Responses that autocannon received: for req/s and latencies. */
  responses: number
  seconds: number
  latencies: Float64Array
}

/** A configuration's slices of one round, merged. */
interface RoundResult extends Counters {
  rps: number
  p50: number
  p99: number
}

const targets: Target[] = []
let nextSampleId = 1

function log (line: string): void {
  process.stderr.write(line + '\n')
}

/** The build has the repo's public/ and package.json where lib/assets.ts looks for them. */
function linkAssets (): void {
  for (const name of ['public', 'package.json']) {
    const link = join(buildRoot, name)
    if (!existsSync(link)) symlinkSync(join('..', '..', name), link)
  }
}

async function startServer (config: Config, redis: BenchRedis): Promise<{ child: ChildProcess, port: number, store: string }> {
  const profileName = `${config.id}-${Date.now()}.cpuprofile`
  const execArgv = PROFILE
    ? ['--cpu-prof', '--cpu-prof-interval', '100', '--cpu-prof-dir', join(buildRoot, 'profiles'), '--cpu-prof-name', profileName]
    : []
  const child = fork(join(here, 'server.js'), [], {
    env: {
      ...process.env,
      BENCH_SERVER: config.server,
      REDIS_PORT: String(redis.port),
      NODE_ENV: 'production',
      ...(PROFILE ? { BENCH_REQUEST_COUNT_FILE: join(buildRoot, 'profiles', `${profileName}.requests.json`) } : {})
    },
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  const ready = await new Promise<{ port: number, store: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server ${config.id} not ready after 30 s`)), 30_000)
    child.on('message', (message: ServerMessage) => {
      if (message.type === 'ready') {
        clearTimeout(timer)
        resolve(message)
      } else if (message.type === 'error') {
        clearTimeout(timer)
        reject(new Error(`server ${config.id} failed:\n${message.message}`))
      }
    })
    child.once('exit', code => reject(new Error(`server ${config.id} exited with code ${code}`)))
  })
  return { child, port: ready.port, store: ready.store }
}

function sample (target: Target): Promise<Sample> {
  const id = nextSampleId++
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server ${target.config.id} did not answer a sample`)), 10_000)
    target.pending.set(id, s => {
      clearTimeout(timer)
      resolve(s)
    })
    target.child.send({ type: 'sample', id } satisfies DriverMessage)
  })
}

async function sessionKeys (redis: BenchRedis): Promise<string[]> {
  const keys: string[] = []
  let cursor = '0'
  do {
    const [next, batch] = await redis.admin.scan(cursor, 'MATCH', 'sess:*', 'COUNT', 1000)
    cursor = next
    keys.push(...batch)
  } while (cursor !== '0')
  return keys
}

async function storedSize (redis: BenchRedis, key: string): Promise<{ bytes: number, how: string }> {
  const type = await redis.admin.type(key)
  if (type === 'string') return { bytes: await redis.admin.strlen(key), how: 'STRLEN' }
  const usage = await redis.admin.memory('USAGE', key) as number | null
  return { bytes: usage ?? 0, how: `MEMORY USAGE (${type})` }
}

async function login (base: string, config: Config): Promise<string> {
  const res = await fetch(`${base}/login`, { method: 'POST' })
  if (res.status !== 200) throw new Error(`${config.id}: POST /login answered ${res.status}`)
  const cookie = res.headers.getSetCookie().map(c => c.split(';')[0]).find(c => c.startsWith('sessionId='))
  if (cookie === undefined) throw new Error(`${config.id}: POST /login set no session cookie`)
  // The first authenticated request: the plugin records the first activity here.
  const page = await fetch(`${base}/page`, { headers: { cookie } })
  if (page.status !== 200) throw new Error(`${config.id}: GET /page after login answered ${page.status}`)
  await page.arrayBuffer()
  return cookie
}

/** Copies of the logged-in session under fresh ids, written with a pipeline (DUMP once, RESTORE N times). */
async function fillSessions (redis: BenchRedis, key: string, count: number): Promise<void> {
  const dump = await redis.admin.dumpBuffer(key)
  if (dump === null) throw new Error(`cannot DUMP ${key}`)
  const BATCH = 10_000
  for (let done = 0; done < count; done += BATCH) {
    const pipeline = redis.admin.pipeline()
    for (let i = done; i < Math.min(count, done + BATCH); i++) {
      // Ids shaped like @fastify/session's (32 characters, base64url).
      pipeline.restore(`sess:${randomBytes(24).toString('base64url')}`, 3_600_000, dump)
    }
    const results = await pipeline.exec()
    const failed = results?.find(([err]) => err !== null)
    if (failed !== undefined) throw failed[0] as Error
  }
}

async function setUp (config: Config): Promise<Target> {
  const redis = await startRedis()
  try {
    const { child, port, store } = await startServer(config, redis)
    const target: Target = {
      config, redis, child, port, store, cookie: '', sessionKey: '', sessionBytes: 0, sessionBytesHow: '', rounds: [], slices: [], allSlices: [], pending: new Map()
    }
    targets.push(target)
    listen(target)
    target.cookie = await login(`http://127.0.0.1:${port}`, config)
    const keys = await sessionKeys(redis)
    if (keys.length !== 1) throw new Error(`${config.id}: expected one session key after login, found ${keys.length}`)
    target.sessionKey = keys[0]
    const size = await storedSize(redis, target.sessionKey)
    target.sessionBytes = size.bytes
    target.sessionBytesHow = size.how
    if (config.fill > 0) {
      const started = Date.now()
      await fillSessions(redis, target.sessionKey, config.fill)
      log(`  ${config.id}: ${config.fill.toLocaleString('en-US')} sessions written in ${((Date.now() - started) / 1000).toFixed(1)} s (dbsize ${await redis.admin.dbsize()})`)
    }
    return target
  } catch (err) {
    await redis.stop()
    throw err
  }
}

function listen (target: Target): void {
  target.child.on('message', (message: ServerMessage) => {
    if (message.type === 'sample') {
      target.pending.get(message.id)?.(message.sample)
      target.pending.delete(message.id)
    }
  })
}

async function stopServer (child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit')
    if (child.connected) child.disconnect()
    else child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  }
}

/**
 * A new server process for the next round, on the same Redis (the session and its cookie stay
 * valid). Two processes running the same code can differ by several percent for the whole of
 * their lives (JIT decisions, memory layout); a fresh process per round averages that out.
 */
async function restartServer (target: Target): Promise<void> {
  await stopServer(target.child)
  const { child, port } = await startServer(target.config, target.redis)
  target.child = child
  target.port = port
  listen(target)
}

async function tearDown (target: Target): Promise<void> {
  await stopServer(target.child)
  await target.redis.stop()
}

// ---------------------------------------------------------------------------------------------
// Measuring

function percentile (sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
}

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

interface LoadResult {
  responses: number
  seconds: number
  latencies: Float64Array
  result: AutocannonResult
}

/** Latencies are collected here from autocannon's response events: its histogram keeps whole milliseconds. */
function load (target: Target, seconds: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    let latencies = new Float64Array(1 << 16)
    let responses = 0
    const started = process.hrtime.bigint()
    const instance = autocannon({
      url: `http://127.0.0.1:${target.port}${target.config.path}`,
      connections: CONNECTIONS,
      duration: seconds,
      headers: { cookie: target.cookie },
      timeout: 10
    }, (err, result) => {
      if (err !== null) {
        reject(err)
        return
      }
      resolve({
        responses,
        seconds: Number(process.hrtime.bigint() - started) / 1e9,
        latencies: latencies.subarray(0, responses),
        result
      })
    })
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      if (responses === latencies.length) {
        const grown = new Float64Array(latencies.length * 2)
        grown.set(latencies)
        latencies = grown
      }
      latencies[responses++] = responseTime
    })
  })
}

function statsDelta (after: Map<string, CommandStat>, before: Map<string, CommandStat>): Map<string, CommandStat> {
  const delta = new Map<string, CommandStat>()
  for (const [command, { calls, usec }] of after) {
    // INFO is the driver's own probe; everything else comes from the server.
    if (command === 'info') continue
    const d = calls - (before.get(command)?.calls ?? 0)
    if (d > 0) delta.set(command, { calls: d, usec: usec - (before.get(command)?.usec ?? 0) })
  }
  return delta
}

function addStats (into: Map<string, CommandStat>, from: Map<string, CommandStat>): void {
  for (const [command, { calls, usec }] of from) {
    const sum = into.get(command)
    if (sum === undefined) into.set(command, { calls, usec })
    else {
      sum.calls += calls
      sum.usec += usec
    }
  }
}

async function measure (target: Target, seconds: number): Promise<Slice> {
  const statsBefore = await target.redis.commandStats()
  const before = await sample(target)
  const loaded = await load(target, seconds)
  const after = await sample(target)
  const statsAfter = await target.redis.commandStats()
  return {
    responses: loaded.responses,
    requests: after.requests - before.requests,
    seconds: loaded.seconds,
    latencies: loaded.latencies,
    cpuMicros: (after.cpu.user - before.cpu.user) + (after.cpu.system - before.cpu.system),
    userMicros: after.cpu.user - before.cpu.user,
    sentCommands: after.redisCommands - before.redisCommands,
    stats: statsDelta(statsAfter, statsBefore),
    errors: loaded.result.errors + loaded.result.timeouts,
    non2xx: loaded.result.non2xx
  }
}

function mergeSlices (slices: Slice[]): RoundResult {
  const requests = slices.reduce((n, s) => n + s.requests, 0)
  const responses = slices.reduce((n, s) => n + s.responses, 0)
  const latencies = new Float64Array(responses)
  let offset = 0
  for (const s of slices) {
    latencies.set(s.latencies, offset)
    offset += s.latencies.length
  }
  latencies.sort()
  const stats = new Map<string, CommandStat>()
  for (const s of slices) addStats(stats, s.stats)
  return {
    requests,
    rps: responses / slices.reduce((n, s) => n + s.seconds, 0),
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    cpuMicros: slices.reduce((n, s) => n + s.cpuMicros, 0),
    userMicros: slices.reduce((n, s) => n + s.userMicros, 0),
    sentCommands: slices.reduce((n, s) => n + s.sentCommands, 0),
    stats,
    errors: slices.reduce((n, s) => n + s.errors, 0),
    non2xx: slices.reduce((n, s) => n + s.non2xx, 0)
  }
}

/** After a round, the session must still be logged in, or the numbers measured 401s. */
async function checkStillLoggedIn (target: Target): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${target.port}${target.config.path}`, { headers: { cookie: target.cookie } })
  const body = await res.text()
  if (res.status !== 200 || body.includes('logout')) throw new Error(`${target.config.id}: the session is no longer logged in (${res.status} ${body})`)
}

// ---------------------------------------------------------------------------------------------
// Aggregating and reporting

const SCRIPT_COMMANDS = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro'])

interface Summary {
  target: Target
  rps: number
  p50: number
  p99: number
  cpuPerRequest: number
  /** Commands the application sent, a script call counting once. */
  commandsPerRequest: number
  /** What Redis executed (INFO commandstats), commands run inside scripts included. */
  executedPerRequest: number
  scriptsPerRequest: number
  userPerRequest: number
  breakdown: string
  /** Time Redis spent executing this configuration's commands, per request (INFO commandstats usec). */
  redisMicrosPerRequest: number
  /** Redis's own time per GET, the session read. */
  getMicros: number
  requests: number
  errors: number
  non2xx: number
}

function summarize (target: Target): Summary {
  const rounds = target.rounds
  const requests = rounds.reduce((n, r) => n + r.requests, 0)
  const sent = rounds.reduce((n, r) => n + r.sentCommands, 0)
  const stats = new Map<string, CommandStat>()
  for (const r of rounds) addStats(stats, r.stats)
  let executed = 0
  let scripts = 0
  let usec = 0
  for (const [command, stat] of stats) {
    executed += stat.calls
    if (SCRIPT_COMMANDS.has(command)) scripts += stat.calls
    // A script's time includes its inner commands, which are listed (and timed) as well.
    else usec += stat.usec
  }
  const get = stats.get('get')
  const breakdown = [...stats].sort((a, b) => b[1].calls - a[1].calls)
    .map(([c, stat]) => `${c} ${(stat.calls / requests).toFixed(3)}`).join(', ')
  return {
    target,
    rps: median(rounds.map(r => r.rps)),
    p50: median(rounds.map(r => r.p50)),
    p99: median(rounds.map(r => r.p99)),
    cpuPerRequest: median(rounds.map(r => r.cpuMicros / r.requests)),
    userPerRequest: median(rounds.map(r => r.userMicros / r.requests)),
    commandsPerRequest: sent / requests,
    executedPerRequest: executed / requests,
    scriptsPerRequest: scripts / requests,
    breakdown,
    redisMicrosPerRequest: usec / requests,
    getMicros: get === undefined ? NaN : get.usec / get.calls,
    requests,
    errors: rounds.reduce((n, r) => n + r.errors, 0),
    non2xx: rounds.reduce((n, r) => n + r.non2xx, 0)
  }
}

/** A small seeded PRNG, so that a run's order of slices can be repeated (BENCH_SEED). */
function mulberry32 (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function shuffle<T> (items: readonly T[], random: () => number): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const swap = out[i]
    out[i] = out[j]
    out[j] = swap
  }
  return out
}

const clock = (seconds: number): string => `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, '0')}`
const fmt = (value: number, digits: number): string => Number.isFinite(value) ? value.toFixed(digits) : 'n/a'
const sliceRps = (s: Slice): number => s.responses / s.seconds
const sliceCpu = (s: Slice): number => s.cpuMicros / s.requests
const sliceUser = (s: Slice): number => s.userMicros / s.requests

interface Paired { median: number, q1: number, q3: number, n: number }

/**
 * The ratio X/Y of one metric, slice group by slice group: the slices of a group run back to
 * back, so a burst of load from elsewhere on the machine falls on both sides of most pairs.
 * The median of these paired ratios is what the targets are checked against.
 */
function paired (x: Target, y: Target, metric: (s: Slice) => number): Paired {
  const ratios = x.allSlices.map((s, i) => metric(s) / metric(y.allSlices[i])).filter(Number.isFinite).sort((a, b) => a - b)
  const at = (q: number): number => ratios[Math.min(ratios.length - 1, Math.floor(q * (ratios.length - 1) + 0.5))]
  return { median: median(ratios), q1: at(0.25), q3: at(0.75), n: ratios.length }
}

function describePaired (p: Paired, x: Summary, y: Summary, metric: (s: Summary) => number): string {
  return `${fmt(p.median, 3)} (median of ${p.n} paired slices, interquartile ${fmt(p.q1, 2)}–${fmt(p.q3, 2)}; ` +
    `ratio of the round medians ${fmt(metric(x) / metric(y), 3)})`
}

function report (summaries: Summary[], machine: string[]): string {
  const byId = new Map(summaries.map(s => [s.target.config.id, s]))
  const A = byId.get('A')
  const lines: string[] = []
  lines.push('| | configuration | req/s (median) | × A | p50 ms | p99 ms | server CPU µs/req | × A | Redis cmds/req | − A |')
  lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const s of summaries) {
    const { id, label } = s.target.config
    const rpsRatio = A === undefined ? 'n/a' : fmt(paired(s.target, A.target, sliceRps).median, 2)
    const cpuRatio = A === undefined ? 'n/a' : fmt(paired(s.target, A.target, sliceCpu).median, 2)
    lines.push(`| ${id} | ${label} | ${Math.round(s.rps).toLocaleString('en-US')} | ${rpsRatio} | ${fmt(s.p50, 2)} | ${fmt(s.p99, 2)} | ` +
      `${fmt(s.cpuPerRequest, 1)} | ${cpuRatio} | ${fmt(s.commandsPerRequest, 3)} | ` +
      `${A === undefined ? 'n/a' : (s.commandsPerRequest - A.commandsPerRequest >= 0 ? '+' : '') + fmt(s.commandsPerRequest - A.commandsPerRequest, 3)} |`)
  }

  const checks: Array<[string, boolean | undefined, string]> = []
  const B = byId.get('B')
  const D1 = byId.get('D1')
  const D2 = byId.get('D2')
  const E = byId.get('E')
  if (A !== undefined && B !== undefined) {
    const rps = paired(B.target, A.target, sliceRps)
    const cpu = paired(B.target, A.target, sliceCpu)
    checks.push(['B/A throughput ≥ 0.97', rps.median >= 0.97, describePaired(rps, B, A, s => s.rps)])
    checks.push(['B/A server CPU per request ≤ 1.05', cpu.median <= 1.05, describePaired(cpu, B, A, s => s.cpuPerRequest)])
    checks.push(['B/A server user-mode CPU per request (information)', undefined,
      `${describePaired(paired(B.target, A.target, sliceUser), B, A, s => s.userPerRequest)}; ${fmt(B.userPerRequest, 1)} vs ${fmt(A.userPerRequest, 1)} µs`])
    checks.push(['B Redis cmds/req ≤ A + 0.01', B.commandsPerRequest <= A.commandsPerRequest + 0.01,
      `${fmt(B.commandsPerRequest, 4)} vs ${fmt(A.commandsPerRequest, 4)}`])
    const aTarget = targets.find(t => t.config.id === 'A')
    const bTarget = targets.find(t => t.config.id === 'B')
    if (aTarget !== undefined && bTarget !== undefined) {
      const added = bTarget.sessionBytes - aTarget.sessionBytes
      checks.push(['bytes the plugin adds to a stored session ≤ 64', added <= 64,
        `${added} (${bTarget.sessionBytesHow}: ${bTarget.sessionBytes} with, ${aTarget.sessionBytes} without)`])
    }
  }
  if (D1 !== undefined) checks.push(['D ping without merge: 1 Redis command', D1.commandsPerRequest <= 1.001, fmt(D1.commandsPerRequest, 4)])
  if (D2 !== undefined) checks.push(['D ping with merge: ≤ 2 Redis commands', D2.commandsPerRequest <= 2, fmt(D2.commandsPerRequest, 4)])
  if (E !== undefined && B !== undefined) {
    const rps = paired(E.target, B.target, sliceRps)
    const cpu = paired(E.target, B.target, sliceCpu)
    checks.push(['E/B throughput ≥ 0.95', rps.median >= 0.95, describePaired(rps, E, B, s => s.rps)])
    checks.push(['E/B server CPU per request (information: same server code)', undefined, describePaired(cpu, E, B, s => s.cpuPerRequest)])
    checks.push(['E/B Redis time per GET (information)', undefined, `${fmt(E.getMicros / B.getMicros, 3)} (${fmt(E.getMicros, 2)} vs ${fmt(B.getMicros, 2)} µs)`])
  }
  const control = byId.get('A′')
  if (A !== undefined && control !== undefined) {
    checks.push(['control A′/A throughput (noise: ideally 1.00)', undefined, describePaired(paired(control.target, A.target, sliceRps), control, A, s => s.rps)])
    checks.push(['control A′/A server CPU per request (noise: ideally 1.00)', undefined,
      describePaired(paired(control.target, A.target, sliceCpu), control, A, s => s.cpuPerRequest)])
    checks.push(['control A′/A server user-mode CPU per request (noise: ideally 1.00)', undefined,
      describePaired(paired(control.target, A.target, sliceUser), control, A, s => s.userPerRequest)])
  }

  lines.push('')
  lines.push('| target | result | measured |')
  lines.push('| --- | --- | --- |')
  for (const [name, ok, value] of checks) lines.push(`| ${name} | ${ok === undefined ? '' : ok ? 'pass' : 'FAIL'} | ${value} |`)

  lines.push('')
  lines.push('What Redis executed per request (INFO commandstats deltas; commands run inside a script are listed as well, the table counts the script call once):')
  lines.push('')
  for (const s of summaries) {
    const problems: string[] = []
    if (s.errors > 0) problems.push(`${s.errors} errors`)
    if (s.non2xx > 0) problems.push(`${s.non2xx} non-2xx`)
    if (s.scriptsPerRequest === 0 && Math.abs(s.executedPerRequest - s.commandsPerRequest) > 0.001) {
      problems.push(`client count ${fmt(s.commandsPerRequest, 4)} ≠ commandstats ${fmt(s.executedPerRequest, 4)}`)
    }
    lines.push(`- ${s.target.config.id}: ${s.breakdown || 'none'}; Redis time ${fmt(s.redisMicrosPerRequest, 2)} µs/request, ` +
      `${fmt(s.getMicros, 2)} µs per GET (${s.requests.toLocaleString('en-US')} requests measured${problems.length > 0 ? '; ' + problems.join('; ') : ''})`)
  }

  lines.push('')
  lines.push(...machine)
  return lines.join('\n')
}

// ---------------------------------------------------------------------------------------------

async function main (): Promise<void> {
  const only = process.env.BENCH_ONLY?.split(',').map(s => s.trim()).filter(Boolean)
  const configs = only === undefined ? CONFIGS : CONFIGS.filter(c => only.includes(c.id))
  if (configs.length === 0) throw new Error(`BENCH_ONLY matches no configuration (${CONFIGS.map(c => c.id).join(', ')})`)
  linkAssets()
  if (PROFILE) mkdirSync(join(buildRoot, 'profiles'), { recursive: true })

  const sliceCount = ROUNDS * SLICES * configs.length
  const estimate = ROUNDS * configs.length * (WARMUP + (RESTART ? 1 : 0)) + sliceCount * (SLICE_SECONDS + 0.2) + (configs.some(c => c.fill > 0) ? 10 : 0)
  log(`fastify-session-security benchmark: ${configs.map(c => c.id).join(', ')}; ${ROUNDS} rounds × ${DURATION} s per configuration ` +
    `in ${SLICES} interleaved slices, ${CONNECTIONS} connections; about ${Math.ceil(estimate / 60)} min`)
  const loadBefore = loadavg()
  for (const config of configs) {
    log(`  starting ${config.id}: ${config.label}`)
    const target = await setUp(config)
    log(`  ${config.id} on port ${target.port}, redis on ${target.redis.port}, store ${target.store}, session ${target.sessionBytes} bytes (${target.sessionBytesHow})`)
  }

  const started = Date.now()
  const tty = process.stderr.isTTY
  const random = mulberry32(SEED)
  let step = 0
  for (let round = 0; round < ROUNDS; round++) {
    if (round > 0 && RESTART) {
      log(`  new server processes for round ${round + 1}`)
      for (const target of targets) await restartServer(target)
    }
    // Warmup of each (new) server: JIT, connection pools, Redis's first allocations.
    if (WARMUP > 0) for (const target of targets) await load(target, WARMUP)
    for (const target of targets) target.slices = []
    for (let slice = 0; slice < SLICES; slice++) {
      // A new random order for each group of slices: no configuration always follows the same one.
      const order = shuffle(targets, random)
      for (const target of order) {
        const measured = await measure(target, SLICE_SECONDS)
        target.slices.push(measured)
        target.allSlices.push(measured)
        step++
        if (tty) {
          const elapsed = (Date.now() - started) / 1000
          process.stderr.write(`\r  round ${round + 1}/${ROUNDS}, slice ${slice + 1}/${SLICES}, ${target.config.id}: ` +
            `${step}/${sliceCount} slices, eta ${clock(elapsed / step * (sliceCount - step))}   `)
        }
      }
    }
    if (tty) process.stderr.write('\r\x1b[K')
    for (const target of targets) {
      await checkStillLoggedIn(target)
      const result = mergeSlices(target.slices)
      target.rounds.push(result)
      log(`round ${round + 1}/${ROUNDS} ${target.config.id.padEnd(2)} ` +
        `${Math.round(result.rps).toLocaleString('en-US').padStart(7)} req/s  p50 ${fmt(result.p50, 2)} ms  p99 ${fmt(result.p99, 2)} ms  ` +
        `cpu ${fmt(result.cpuMicros / result.requests, 1)} µs/req  redis ${fmt(result.sentCommands / result.requests, 3)} cmd/req` +
        `${result.non2xx + result.errors > 0 ? `  (${result.non2xx} non-2xx, ${result.errors} errors)` : ''}`)
    }
    const elapsed = (Date.now() - started) / 1000
    log(`  elapsed ${clock(elapsed)}, eta ${clock(elapsed / step * (sliceCount - step))}`)
  }
  const loadAfter = loadavg()

  const redisVersion = await targets[0].redis.version()
  const machine = [
    `Machine: ${availableParallelism()} CPUs (nproc), ${cpus()[0]?.model ?? 'unknown CPU'}; Node.js ${process.version}; ` +
      `redis-server ${redisVersion}; ${new Date().toISOString().slice(0, 10)}.`,
    `Run: ${ROUNDS} rounds; in each, every configuration gets ${DURATION} s of load in ${SLICES} slices of ${fmt(SLICE_SECONDS, 1)} s ` +
      `that alternate between configurations in random order; ${CONNECTIONS} connections; ` +
      `${RESTART ? 'new server processes each round, ' : ''}${WARMUP} s warmup per server before each round. ` +
      `req/s, latencies and CPU per request are medians of the rounds; the × A columns and the targets use the median of the ` +
      `ratios of slices run back to back (one slice of each configuration per group); Redis commands per request are totals over all rounds. ` +
      `Store in B, D, E: ${targets.find(t => t.config.server === 'plugin')?.store ?? 'n/a'}.`,
    `Load average (1 min) before / after: ${fmt(loadBefore[0], 2)} / ${fmt(loadAfter[0], 2)}.`
  ]
  const text = report(targets.map(summarize), machine)
  process.stdout.write(text + '\n')
  const out = process.env.BENCH_OUT
  if (out !== undefined && out !== '') writeFileSync(resolve(repoRoot, out), text + '\n')
}

async function cleanUp (): Promise<void> {
  await Promise.allSettled(targets.map(tearDown))
}

const watchdog = setTimeout(() => {
  log(`benchmark still running after ${MAX_MINUTES} minutes: stopping`)
  cleanUp().finally(() => process.exit(2))
}, MAX_MINUTES * 60_000)
watchdog.unref()

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping servers and redis`)
    cleanUp().finally(() => process.exit(130))
  })
}

try {
  await main()
} catch (err) {
  process.exitCode = 1
  log(String((err as Error).stack ?? err))
} finally {
  await cleanUp()
}
