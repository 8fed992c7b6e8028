// Summarises a V8 .cpuprofile written by `BENCH_PROFILE=1 npm run bench` (servers run with
// --cpu-prof; profiles land in benchmarks/.build/profiles/):
//
//   node benchmarks/.build/benchmarks/profile.js <file.cpuprofile> [more files...]
//   node benchmarks/.build/benchmarks/profile.js --diff <baseline.cpuprofile> <other.cpuprofile>
//
// Prints, per profile: the top functions by self time, the inclusive time of the plugin's entry
// points (its hook, ping handler, store calls), and the self time spent in the plugin's own files.
// With the request count that server.ts writes next to each profile, times are also per request;
// --diff lists the functions whose self time per request grew most from the baseline.
import { existsSync, readFileSync } from 'node:fs'
import { basename } from 'node:path'

interface CallFrame { functionName: string, url: string, lineNumber: number }
interface ProfileNode { id: number, callFrame: CallFrame, children?: number[] }
interface CpuProfile { nodes: ProfileNode[], startTime: number, endTime: number, samples: number[], timeDeltas: number[] }

/** Functions whose inclusive time shows what the plugin costs. */
const ENTRY_POINTS = [
  'sessionSecurityOnRequest', 'afterAuthentication', 'track', 'isPassive', 'record', 'recordActivity',
  'sessionSecurityPing', 'set', 'stringify', 'defaultIsAuthenticated', 'parseActivity', 'expireAfterFor'
]

function where (frame: CallFrame): string {
  const file = frame.url === '' ? '(native)' : frame.url.replace(/^file:\/\/.*?\/(node_modules|benchmarks\/\.build)\//, '$1/')
  return `${file}:${frame.lineNumber + 1}`
}

function isPluginFile (url: string): boolean {
  return /\/benchmarks\/\.build\/(index\.js|lib\/)/.test(url)
}

interface Analysis {
  total: number
  busy: number
  pluginSelf: number
  selfByFunction: Map<string, number>
  inclusive: Map<string, number>
  /** Requests the server received over the profile's lifetime, when known. */
  requests: number | undefined
}

function analyse (path: string): Analysis {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map(n => [n.id, n]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)

  const self = new Map<number, number>()
  let total = 0
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0
    total += dt
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt)
  }
  const idle = [...self].filter(([id]) => ['(idle)', '(program)'].includes(byId.get(id)?.callFrame.functionName ?? ''))
    .reduce((n, [, t]) => n + t, 0)
  const busy = total - idle

  // Self time per function (name + location), and inclusive time per function, counted once per sample.
  const selfByFunction = new Map<string, number>()
  const inclusive = new Map<string, number>()
  let pluginSelf = 0
  for (const [id, t] of self) {
    const node = byId.get(id)
    if (node === undefined) continue
    const key = `${node.callFrame.functionName || '(anonymous)'} ${where(node.callFrame)}`
    selfByFunction.set(key, (selfByFunction.get(key) ?? 0) + t)
    if (isPluginFile(node.callFrame.url)) pluginSelf += t
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame
      if (frame === undefined) break
      const name = frame.functionName
      if (ENTRY_POINTS.includes(name) && (isPluginFile(frame.url) || name === 'sessionSecurityOnRequest') && !seen.has(name)) {
        seen.add(name)
        inclusive.set(name, (inclusive.get(name) ?? 0) + t)
      }
    }
  }

  const countFile = `${path}.requests.json`
  const requests = existsSync(countFile) ? (JSON.parse(readFileSync(countFile, 'utf8')) as { requests: number }).requests : undefined
  return { total, busy, pluginSelf, selfByFunction, inclusive, requests }
}

const ms = (us: number): string => (us / 1000).toFixed(1)
const isIdle = (key: string): boolean => /^\((idle|program)\) /.test(key)

function summarise (path: string): void {
  const { total, busy, pluginSelf, selfByFunction, inclusive, requests } = analyse(path)
  const pct = (us: number): string => (100 * us / busy).toFixed(2) + '%'
  const perRequest = (us: number): string => requests === undefined ? '' : `, ${(us / requests).toFixed(2)} µs/req`
  console.log(`\n## ${basename(path)}: ${ms(total)} ms sampled, ${ms(busy)} ms busy (not idle/program)` +
    `${requests === undefined ? '' : `; ${requests} requests, ${(busy / requests).toFixed(1)} µs busy per request`}`)
  console.log(`plugin files, self time: ${ms(pluginSelf)} ms = ${pct(pluginSelf)} of busy time${perRequest(pluginSelf)}`)
  for (const [name, t] of [...inclusive].sort((a, b) => b[1] - a[1])) console.log(`  inclusive ${name}: ${ms(t)} ms = ${pct(t)}${perRequest(t)}`)
  console.log('top functions by self time:')
  const ranked = [...selfByFunction].filter(([key]) => !isIdle(key)).sort((a, b) => b[1] - a[1])
  for (const [key, t] of ranked.slice(0, 25)) {
    console.log(`  ${pct(t).padStart(7)}  ${ms(t).padStart(8)} ms${perRequest(t)}  ${key}`)
  }
}

function diff (basePath: string, otherPath: string): void {
  const base = analyse(basePath)
  const other = analyse(otherPath)
  if (base.requests === undefined || other.requests === undefined) throw new Error('--diff needs the .requests.json files that BENCH_PROFILE=1 writes')
  const b = base.requests
  const o = other.requests
  console.log(`\n## ${basename(otherPath)} against ${basename(basePath)}, self time in µs per request`)
  console.log(`busy: ${(base.busy / b).toFixed(2)} -> ${(other.busy / o).toFixed(2)} µs/req ` +
    `(${((other.busy / o) / (base.busy / b)).toFixed(3)}×)`)
  const keys = new Set([...base.selfByFunction.keys(), ...other.selfByFunction.keys()])
  const rows = [...keys].filter(k => !isIdle(k)).map(k => {
    const before = (base.selfByFunction.get(k) ?? 0) / b
    const after = (other.selfByFunction.get(k) ?? 0) / o
    return { k, before, after, delta: after - before }
  }).sort((x, y) => y.delta - x.delta)
  console.log('grew most:')
  for (const r of rows.slice(0, 20)) console.log(`  ${r.delta >= 0 ? '+' : ''}${r.delta.toFixed(2).padStart(6)}  (${r.before.toFixed(2)} -> ${r.after.toFixed(2)})  ${r.k}`)
  console.log('shrank most:')
  for (const r of rows.slice(-8).reverse()) console.log(`  ${r.delta.toFixed(2).padStart(7)}  (${r.before.toFixed(2)} -> ${r.after.toFixed(2)})  ${r.k}`)
}

const args = process.argv.slice(2)
if (args[0] === '--diff' && args.length === 3) {
  diff(args[1], args[2])
} else if (args.length > 0 && !args.includes('--diff')) {
  for (const file of args) summarise(file)
} else {
  console.error('usage: node benchmarks/.build/benchmarks/profile.js <file.cpuprofile>... | --diff <baseline> <other>')
  process.exitCode = 1
}
