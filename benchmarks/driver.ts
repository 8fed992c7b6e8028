// Runs the duels of config.ts: for each, a fresh pair of server processes, each with its own
// private redis-server, both pinned to CPU 1 and loaded at the same time by two autocannon
// instances in this process, which (with the redis-servers) is pinned to CPU 0. Sharing one CPU
// and one window, the two servers see the same noise; the ratio within a duel cancels most of it.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, symlinkSync } from 'node:fs'
import { createRequire } from 'node:module'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import type { Duel, Scenario, Settings } from './config.js'
import { startRedis, type BenchRedis, type CommandStat } from './redis.js'
import type { DriverMessage, Sample, ServerMessage } from './server.js'
import { seededRandom, shuffle, type Counts, type DuelCounts } from './stats.js'
import { stopProcess } from '../test/helpers/process.js'

const SERVER_CPU = '1'
const DRIVER_CPU = '0'

const here = dirname(fileURLToPath(import.meta.url))
/** benchmarks/.build/benchmarks/ -> benchmarks/.build/ */
export const buildRoot = join(here, '..')
export const repoRoot = join(buildRoot, '..', '..')

export interface Machine {
  nproc: number
  cpuModel: string
  node: string
  redis: string
  /** Servers on CPU 1, this driver and Redis on CPU 0. */
  pinned: boolean
  commit: string
  /** index.ts or lib/ differ from the commit. */
  dirty: boolean
  loadBefore: number
  loadAfter: number
  date: string
}

export interface DuelResult extends DuelCounts {
  duel: Duel
  /** Position in the run, from 1. */
  index: number
  /** Which server of the pair was started (and loaded) first. */
  startedFirst: 'first' | 'second'
  /** STRLEN of each server's session after login and one page. */
  sessionBytes: { first: number, second: number }
  /** Calls per command in each server's Redis over the window. */
  byCommand: { first: Record<string, number>, second: Record<string, number> }
}

export interface RunResult {
  settings: Settings
  machine: Machine
  duels: DuelResult[]
  /** The profiled A-against-B duel's .cpuprofile files. */
  profile?: { baseline: string, plugin: string }
}

// autocannon is CommonJS without bundled types: the part of its API used here.
interface AutocannonResult { errors: number, timeouts: number, non2xx: number }
interface AutocannonInstance { stop (): void }
type Autocannon = (options: { url: string, connections: number, duration: number, headers: Record<string, string>, timeout: number },
  done: (err: Error | null, result: AutocannonResult) => void) => AutocannonInstance
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon

interface Server {
  scenario: Scenario
  redis: BenchRedis
  child: ChildProcess
  port: number
  cookie: string
  sample (): Promise<Sample>
}

/** Everything started and not yet stopped, for cleanUp() on a signal or an error. */
const live = new Set<{ stop (): Promise<void> }>()

export async function cleanUp (): Promise<void> {
  await Promise.allSettled([...live].map(x => x.stop()))
}

function canPin (): boolean {
  return availableParallelism() >= 2 && spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0
}

/** The build has the repo's public/ and package.json where lib/assets.ts looks for them. */
function linkAssets (): void {
  for (const name of ['public', 'package.json']) {
    const link = join(buildRoot, name)
    if (!existsSync(link)) symlinkSync(join('..', '..', name), link)
  }
}

function git (...args: string[]): string {
  const result = spawnSync('git', args, { cwd: repoRoot, encoding: 'utf8' })
  return result.status === 0 ? result.stdout.trim() : ''
}

async function stopChild (child: ChildProcess): Promise<void> {
  // Disconnecting lets the server close and write its profile; a kill is the fallback.
  await stopProcess(child, { disconnect: true, killAfterMs: 10_000 })
}

/** One name per server of a duel, even when both are the same kind (an ablation of a server against itself). */
function profileFile (scenario: Scenario): string {
  return `${scenario.id === 'B' ? 'B' : 'A'}-${scenario.server}.cpuprofile`
}

async function startServer (scenario: Scenario, redis: BenchRedis, pinned: boolean, profileDir: string | undefined): Promise<Server> {
  const profileName = profileFile(scenario)
  const nodeArgs = [
    ...(profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-interval', '100', '--cpu-prof-dir', profileDir, '--cpu-prof-name', profileName]),
    join(here, 'server.js')
  ]
  const child = spawn(pinned ? 'taskset' : process.execPath, pinned ? ['-c', SERVER_CPU, process.execPath, ...nodeArgs] : nodeArgs, {
    env: {
      ...process.env,
      BENCH_SERVER: scenario.server,
      REDIS_PORT: String(redis.port),
      NODE_ENV: 'production',
      ...(profileDir === undefined ? {} : { BENCH_REQUEST_COUNT_FILE: join(profileDir, `${profileName}.requests.json`) })
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  const handle = { stop: () => stopChild(child) }
  live.add(handle)
  child.once('exit', () => live.delete(handle))

  const pending = new Map<number, (sample: Sample) => void>()
  let nextId = 1
  const ready = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server ${scenario.id} not ready after 30 s`)), 30_000)
    child.once('exit', code => reject(new Error(`server ${scenario.id} exited with code ${code}`)))
    child.on('message', (message: ServerMessage) => {
      if (message.type === 'ready') {
        clearTimeout(timer)
        resolve(message.port)
      } else if (message.type === 'error') {
        clearTimeout(timer)
        reject(new Error(`server ${scenario.id} failed:\n${message.message}`))
      } else {
        pending.get(message.id)?.(message.sample)
        pending.delete(message.id)
      }
    })
  })
  const port = await ready
  const cookie = await login(`http://127.0.0.1:${port}`, scenario)
  return {
    scenario,
    redis,
    child,
    port,
    cookie,
    sample () {
      const id = nextId++
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`server ${scenario.id} did not answer a sample`)), 10_000)
        pending.set(id, s => { clearTimeout(timer); resolve(s) })
        child.send({ type: 'sample', id } satisfies DriverMessage)
      })
    }
  }
}

/** Logs in and views the page once (the plugin records the first activity there); returns the cookie. */
async function login (base: string, scenario: Scenario): Promise<string> {
  const res = await fetch(`${base}/login`, { method: 'POST' })
  if (res.status !== 200) throw new Error(`${scenario.id}: POST /login answered ${res.status}`)
  const cookie = res.headers.getSetCookie().map(c => c.split(';')[0]).find(c => c.startsWith('sessionId='))
  if (cookie === undefined) throw new Error(`${scenario.id}: POST /login set no session cookie`)
  await expectPage(base, cookie, scenario)
  return cookie
}

async function expectPage (base: string, cookie: string, scenario: Scenario): Promise<void> {
  const res = await fetch(`${base}/page`, { headers: { cookie } })
  const body = await res.text()
  if (res.status !== 200) throw new Error(`${scenario.id}: GET /page answered ${res.status} ${body}: the session is not logged in`)
}

/** The size of the one session in a server's Redis. */
async function sessionBytes (server: Server): Promise<number> {
  const keys = await server.redis.admin.keys('sess:*')
  if (keys.length !== 1) throw new Error(`${server.scenario.id}: expected one session in Redis, found ${keys.length}`)
  return server.redis.admin.strlen(keys[0])
}

/** Calls per command between two INFO commandstats, the driver's own INFO left out. */
function callsBetween (before: Map<string, CommandStat>, after: Map<string, CommandStat>): Record<string, number> {
  const calls: Record<string, number> = {}
  for (const [command, stat] of after) {
    if (command === 'info') continue
    const delta = stat.calls - (before.get(command)?.calls ?? 0)
    if (delta > 0) calls[command] = delta
  }
  return calls
}

/** Starts autocannon on a server; the returned stop() ends the load and resolves with its failures. */
function loadServer (server: Server, settings: Settings): { stop (): Promise<number> } {
  let instance: AutocannonInstance | undefined
  const finished = new Promise<AutocannonResult>((resolve, reject) => {
    instance = autocannon({
      url: `http://127.0.0.1:${server.port}/page`,
      connections: settings.connections,
      // Longer than needed: stopped explicitly after the measured window.
      duration: settings.warmup + settings.seconds + 60,
      headers: { cookie: server.cookie },
      timeout: 10
    }, (err, result) => { if (err !== null) reject(err); else resolve(result) })
  })
  return {
    async stop () {
      instance?.stop()
      const result = await finished
      return result.errors + result.non2xx
    }
  }
}

interface Window { sample: Sample, stats: Map<string, CommandStat> }

async function snapshot (server: Server): Promise<Window> {
  const [sample, stats] = await Promise.all([server.sample(), server.redis.commandStats()])
  return { sample, stats }
}

function countsOf (before: Window, after: Window, failures: number): Counts {
  const calls = callsBetween(before.stats, after.stats)
  return {
    requests: after.sample.requests - before.sample.requests,
    cpuMicros: (after.sample.cpu.user - before.sample.cpu.user) + (after.sample.cpu.system - before.sample.cpu.system),
    seconds: (after.sample.now - before.sample.now) / 1e9,
    commands: Object.values(calls).reduce((n, c) => n + c, 0),
    failures
  }
}

/** One duel: fresh Redis and server processes for both sides, loaded together, then stopped. */
async function runDuel (duel: Duel, secondFirst: boolean, settings: Settings, pinned: boolean, profileDir?: string): Promise<Omit<DuelResult, 'index'>> {
  const started: Array<{ stop (): Promise<void> }> = []
  try {
    const start = async (scenario: Scenario): Promise<Server> => {
      const redis = await startRedis()
      live.add(redis)
      started.push(redis)
      const server = await startServer(scenario, redis, pinned, profileDir)
      started.push({ stop: () => stopChild(server.child) })
      return server
    }
    // Started one after the other, in the duel's order (memory and JIT warm-up overlap otherwise).
    let first: Server
    let second: Server
    if (secondFirst) {
      second = await start(duel.second)
      first = await start(duel.first)
    } else {
      first = await start(duel.first)
      second = await start(duel.second)
    }
    const bytes = { first: await sessionBytes(first), second: await sessionBytes(second) }

    const loads = secondFirst ? [loadServer(second, settings), loadServer(first, settings)] : [loadServer(first, settings), loadServer(second, settings)]
    await sleep(settings.warmup * 1000)
    const [firstBefore, secondBefore] = await Promise.all([snapshot(first), snapshot(second)])
    await sleep(settings.seconds * 1000)
    const [firstAfter, secondAfter] = await Promise.all([snapshot(first), snapshot(second)])
    const [failuresA, failuresB] = await Promise.all(loads.map(l => l.stop()))
    const failures = secondFirst ? { first: failuresB, second: failuresA } : { first: failuresA, second: failuresB }
    // Still logged in: otherwise the numbers measured 401s.
    await expectPage(`http://127.0.0.1:${first.port}`, first.cookie, first.scenario)
    await expectPage(`http://127.0.0.1:${second.port}`, second.cookie, second.scenario)
    return {
      duel,
      startedFirst: secondFirst ? 'second' : 'first',
      first: countsOf(firstBefore, firstAfter, failures.first),
      second: countsOf(secondBefore, secondAfter, failures.second),
      sessionBytes: bytes,
      byCommand: { first: callsBetween(firstBefore.stats, firstAfter.stats), second: callsBetween(secondBefore.stats, secondAfter.stats) }
    }
  } finally {
    for (const x of started.reverse()) {
      await x.stop()
      live.delete(x)
    }
  }
}

export async function runBenchmark (settings: Settings, log: (line: string) => void): Promise<RunResult> {
  linkAssets()
  // Before pinning: afterwards this process sees one CPU.
  const nproc = availableParallelism()
  const pinned = canPin()
  // Children inherit the affinity: the redis-servers share CPU 0 with autocannon.
  if (pinned) execFileSync('taskset', ['-a', '-p', '-c', DRIVER_CPU, String(process.pid)], { stdio: 'ignore' })
  log(pinned ? `pinned: servers on CPU ${SERVER_CPU}, autocannon and Redis on CPU ${DRIVER_CPU}` : 'not pinned (no taskset, or one CPU)')

  const random = seededRandom(settings.seed)
  const plan = shuffle(settings.plan.flatMap(duel => Array.from({ length: settings.duels }, () => duel)), random)
    .map(duel => ({ duel, secondFirst: random() < 0.5 }))
  const perDuel = settings.warmup + settings.seconds + 2
  log(`${plan.length} duels of ${settings.warmup} s warm-up + ${settings.seconds} s, ${settings.connections} connections per server, ` +
    `seed ${settings.seed}; about ${Math.ceil(plan.length * perDuel / 60 + (settings.profile ? perDuel / 60 : 0))} min`)

  const loadBefore = loadavg()[0]
  const duels: DuelResult[] = []
  for (const [i, { duel, secondFirst }] of plan.entries()) {
    const result = { index: i + 1, ...await runDuel(duel, secondFirst, settings, pinned) }
    duels.push(result)
    const rate = (c: Counts): string => `${Math.round(c.requests / c.seconds)} req/s ${(c.cpuMicros / c.requests).toFixed(1)} µs/req`
    log(`  ${String(i + 1).padStart(2)}/${plan.length} ${duel.name.padEnd(7)} ${duel.first.id} ${rate(result.first)} | ` +
      `${duel.second.id} ${rate(result.second)} | ${duel.second.id}/${duel.first.id} ${(result.second.requests / result.second.seconds / (result.first.requests / result.first.seconds)).toFixed(3)}`)
  }
  const loadAfter = loadavg()[0]

  let profile: RunResult['profile']
  if (settings.profile) {
    const dir = join(buildRoot, 'profiles', new Date().toISOString().replace(/[:.]/g, '-'))
    mkdirSync(dir, { recursive: true })
    const plugin = settings.plan.find(d => d.name === 'plugin')
    if (plugin === undefined) throw new Error('no plugin duel in the plan')
    log(`  profiled duel (--cpu-prof, not measured) into ${dir}`)
    await runDuel(plugin, false, settings, pinned, dir)
    profile = { baseline: join(dir, profileFile(plugin.first)), plugin: join(dir, profileFile(plugin.second)) }
  }

  const redis = await startRedis()
  const redisVersion = await redis.version()
  await redis.stop()
  return {
    settings,
    duels,
    profile,
    machine: {
      nproc,
      cpuModel: cpus()[0]?.model ?? 'unknown CPU',
      node: process.version,
      redis: redisVersion,
      pinned,
      commit: git('rev-parse', '--short', 'HEAD'),
      dirty: git('status', '--porcelain', '--', 'index.ts', 'lib') !== '',
      loadBefore,
      loadAfter,
      date: new Date().toISOString().slice(0, 10)
    }
  }
}
