// What `npm run bench` compares and what it must show, as data. The driver (driver.ts) runs these
// duels, stats.ts turns them into ratios, report.ts checks them against TARGETS.
export interface Scenario {
  id: string
  label: string
  server: ServerKind
}

export const SCENARIOS = {
  A: { id: 'A', label: '@fastify/session + connect-redis RedisStore, rolling: false, an authenticated page (baseline)', server: 'baseline' },
  B: { id: 'B', label: 'A + fastify-session-security (expireAfter: 600) with SessionSecurityStore', server: 'plugin' },
  control: { id: 'A′', label: 'A again, a second identical process (control)', server: 'baseline' }
} as const satisfies Record<string, Scenario>

/** Two servers loaded at the same time, on the same CPU: `ratio` is second / first. */
export interface Duel {
  name: 'plugin' | 'control'
  first: Scenario
  second: Scenario
}

export const DUELS: readonly Duel[] = [
  { name: 'plugin', first: SCENARIOS.A, second: SCENARIOS.B },
  { name: 'control', first: SCENARIOS.A, second: SCENARIOS.control }
]

/**
 * The servers that server.ts can be: the baseline, the plugin, and, for ablation runs
 * (`BENCH_PAIR=first,second`), servers that take the plugin apart without loading it: they tell
 * what the two fields that a signed-in session carries cost in @fastify/session itself.
 */
export const SERVER_KINDS = {
  baseline: 'A: the baseline',
  plugin: 'B: A + the plugin',
  fields: 'A whose sign-in also writes the plugin\'s two fields as the plugin stores them (no plugin)',
  'fields-hidden': 'fields, read through a serializer that hands @fastify/session the session without the two fields',
  hidden: 'A read through that same serializer (what the serializer itself costs)',
  'fields-apart': 'A whose sign-in writes the plugin\'s two fields into a second key, which get reads with the session in one MGET ' +
    '(the fields outside the session JSON that @fastify/session copies and hashes)'
} as const

export type ServerKind = keyof typeof SERVER_KINDS

/**
 * The duels of a run: A against B and A against A′, or, with `BENCH_PAIR=first,second`, those two
 * servers against each other and the first against itself (the control). `baseline,plugin` is the
 * normal run. Unknown names throw.
 */
export function duelsFrom (env: NodeJS.ProcessEnv): readonly Duel[] {
  const pair = env.BENCH_PAIR
  if (pair === undefined || pair === '') return DUELS
  const names = pair.split(',')
  if (names.length !== 2 || !names.every(name => Object.hasOwn(SERVER_KINDS, name))) {
    throw new Error(`BENCH_PAIR must be two of ${Object.keys(SERVER_KINDS).join(', ')}, separated by a comma; got ${pair}`)
  }
  const [first, second] = names as [ServerKind, ServerKind]
  if (first === SCENARIOS.A.server && second === SCENARIOS.B.server) return DUELS
  const scenario = (id: string, server: ServerKind): Scenario => ({ id, label: `${server}: ${SERVER_KINDS[server]}`, server })
  return [
    { name: 'plugin', first: scenario('A', first), second: scenario('B', second) },
    { name: 'control', first: scenario('A', first), second: scenario('A′', first) }
  ]
}

/** The numbers the report computes; each target below reads one of them. */
export type Measure =
  | 'controlThroughput' | 'controlCpu'
  | 'throughput' | 'cpu'
  | 'commandsAdded' | 'bytesAdded'

export interface Target {
  measure: Measure
  label: string
  atLeast?: number
  atMost?: number
}

export const TARGETS: readonly Target[] = [
  // The control decides whether the run can resolve 2 %: A and A′ are the same code.
  { measure: 'controlThroughput', label: 'control: throughput A′/A (median of duels)', atLeast: 0.99, atMost: 1.01 },
  { measure: 'controlCpu', label: 'control: CPU per request A′/A (median of duels)' },
  { measure: 'throughput', label: 'throughput B/A (median of duels)', atLeast: 0.97 },
  { measure: 'cpu', label: 'CPU per request B/A (median of duels)', atMost: 1.03 },
  { measure: 'commandsAdded', label: 'Redis commands per request, B − A', atMost: 0.01 },
  { measure: 'bytesAdded', label: 'bytes the plugin adds to a stored session', atMost: 96 }
]

export interface Settings {
  /** Duels of each kind (plugin and control). */
  duels: number
  /** Seconds of load on a new pair before measuring (JIT, pools). */
  warmup: number
  /** Seconds measured per duel. */
  seconds: number
  /** Connections per server. */
  connections: number
  /** Orders the duels and which server of a pair starts first. */
  seed: number
  /** One more A-against-B duel with --cpu-prof, after the measured ones. */
  profile: boolean
  /** The section of RESULTS.md to write ('' for none). */
  section: string
  quick: boolean
  /** The duels to run (see duelsFrom). */
  plan: readonly Duel[]
  /** A BENCH_PAIR run of two other servers: the plugin's targets do not apply to its pair. */
  ablation: boolean
}

function envNumber (env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number >= 0, got ${raw}`)
  return value
}

/**
 * BENCH_QUICK=1 is a smoke check (about 30 s), and BENCH_PAIR of two other servers than the
 * baseline and the plugin an ablation run: neither writes to RESULTS.md unless BENCH_SECTION says
 * where.
 */
export function settingsFrom (env: NodeJS.ProcessEnv): Settings {
  const quick = env.BENCH_QUICK === '1'
  const plan = duelsFrom(env)
  const ablation = plan !== DUELS
  return {
    duels: Math.max(1, Math.round(envNumber(env, 'BENCH_DUELS', quick ? 1 : 8))),
    warmup: envNumber(env, 'BENCH_WARMUP', quick ? 1 : 3),
    seconds: envNumber(env, 'BENCH_SECONDS', quick ? 2 : 10),
    connections: Math.max(1, Math.round(envNumber(env, 'BENCH_CONNECTIONS', 10))),
    seed: envNumber(env, 'BENCH_SEED', 1),
    profile: env.BENCH_PROFILE === undefined || env.BENCH_PROFILE === '' ? !quick : env.BENCH_PROFILE === '1',
    section: env.BENCH_SECTION ?? (quick || ablation ? '' : 'latest'),
    quick,
    plan,
    ablation
  }
}
