// Summarises a V8 .cpuprofile written by `BENCH_PROFILE=1 npm run bench` (servers run with
// --cpu-prof; profiles land in benchmarks/.build/profiles/):
//
//   node benchmarks/.build/benchmarks/profile.js <file.cpuprofile> [more files...]
//
// Prints, per profile: the top functions by self time, the inclusive time of the plugin's entry
// points (its hook, ping handler, store calls), and the self time spent in the plugin's own files.
import { readFileSync } from 'node:fs'
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

function summarise (path: string): void {
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

  const ms = (us: number): string => (us / 1000).toFixed(1)
  const pct = (us: number): string => (100 * us / busy).toFixed(2) + '%'
  console.log(`\n## ${basename(path)}: ${ms(total)} ms sampled, ${ms(busy)} ms busy (not idle/program)`)
  console.log(`plugin files, self time: ${ms(pluginSelf)} ms = ${pct(pluginSelf)} of busy time`)
  for (const [name, t] of [...inclusive].sort((a, b) => b[1] - a[1])) console.log(`  inclusive ${name}: ${ms(t)} ms = ${pct(t)}`)
  console.log('top functions by self time:')
  const ranked = [...selfByFunction].filter(([key]) => !/^\((idle|program)\) /.test(key)).sort((a, b) => b[1] - a[1])
  for (const [key, t] of ranked.slice(0, 25)) {
    console.log(`  ${pct(t).padStart(7)}  ${ms(t).padStart(8)} ms  ${key}`)
  }
}

const files = process.argv.slice(2)
if (files.length === 0) {
  console.error('usage: node benchmarks/.build/benchmarks/profile.js <file.cpuprofile>...')
  process.exitCode = 1
}
for (const file of files) summarise(file)
