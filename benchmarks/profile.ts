// Reads the V8 .cpuprofile files of the profiled duel (server.ts writes the request count next to
// each) and puts them in µs per request: report.ts adds the tables to RESULTS.md. By hand:
//
//   node benchmarks/.build/benchmarks/profile.js <baseline.cpuprofile> <plugin.cpuprofile>
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

interface CallFrame { functionName: string, url: string, lineNumber: number }
interface ProfileNode { id: number, callFrame: CallFrame, children?: number[] }
interface CpuProfile { nodes: ProfileNode[], samples: number[], timeDeltas: number[] }

export interface Analysis {
  /** Sampled time that was not idle, in µs. */
  busy: number
  /** Self time per function ("name file:line"), in µs. */
  self: Map<string, number>
  /** Time under each outermost frame of the plugin's own files (its hook, its store, ...), in µs. */
  plugin: Map<string, number>
  requests: number
}

/** The plugin's compiled files in the benchmark's build. */
const isPluginFile = (url: string): boolean => /\/benchmarks\/\.build\/(index\.js|lib\/)/.test(url)
const isIdle = (name: string): boolean => name === '(idle)' || name === '(program)'

function describe (frame: CallFrame): string {
  const file = frame.url === ''
    ? '(native)'
    : frame.url.replace(/^file:\/\/.*?\/node_modules\//, '').replace(/^file:\/\/.*?\/benchmarks\/\.build\//, '')
  return `${frame.functionName === '' ? '(anonymous)' : frame.functionName} ${file}:${frame.lineNumber + 1}`
}

export function analyse (path: string): Analysis {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile
  const countFile = `${path}.requests.json`
  if (!existsSync(countFile)) throw new Error(`no request count next to ${path}`)
  const { requests } = JSON.parse(readFileSync(countFile, 'utf8')) as { requests: number }

  const byId = new Map(profile.nodes.map(n => [n.id, n]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const timeByNode = new Map<number, number>()
  profile.samples.forEach((id, i) => timeByNode.set(id, (timeByNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))

  let busy = 0
  const self = new Map<string, number>()
  const plugin = new Map<string, number>()
  for (const [id, t] of timeByNode) {
    const node = byId.get(id)
    if (node === undefined || isIdle(node.callFrame.functionName)) continue
    busy += t
    const key = describe(node.callFrame)
    self.set(key, (self.get(key) ?? 0) + t)
    let outermost: CallFrame | undefined
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame
      if (frame !== undefined && isPluginFile(frame.url)) outermost = frame
    }
    if (outermost !== undefined) plugin.set(describe(outermost), (plugin.get(describe(outermost)) ?? 0) + t)
  }
  return { busy, self, plugin, requests }
}

const us = (value: number): string => value.toFixed(2)

/** Markdown: busy time per request, the plugin's entry points, and B's top functions against A's. */
export function profileTables (baseline: Analysis, plugin: Analysis, top = 15): string[] {
  const perA = (t: number): number => t / baseline.requests
  const perB = (t: number): number => t / plugin.requests
  const lines = [
    `Busy CPU per request under the profiler (sampling every 100 µs, which slows both alike): A ${us(perA(baseline.busy))} µs, ` +
      `B ${us(perB(plugin.busy))} µs (B/A ${(perB(plugin.busy) / perA(baseline.busy)).toFixed(3)}); ` +
      `${baseline.requests.toLocaleString('en-US')} and ${plugin.requests.toLocaleString('en-US')} requests.`,
    '',
    'Time under the plugin\'s own functions in B (inclusive, by the outermost plugin frame; the store\'s `get` includes the session read that A does through `RedisStore`):',
    '',
    '| plugin function | µs per request | share of B\'s busy time |',
    '| --- | ---: | ---: |'
  ]
  for (const [key, t] of [...plugin.plugin].sort((a, b) => b[1] - a[1])) {
    lines.push(`| \`${key}\` | ${us(perB(t))} | ${(100 * t / plugin.busy).toFixed(2)} % |`)
  }
  lines.push('', `Top ${top} functions of B by self time, against the same function in A:`, '',
    '| function | B µs/req | A µs/req | B − A |', '| --- | ---: | ---: | ---: |')
  for (const [key, t] of [...plugin.self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    const inA = perA(baseline.self.get(key) ?? 0)
    const delta = perB(t) - inA
    lines.push(`| \`${key}\` | ${us(perB(t))} | ${us(inA)} | ${delta >= 0 ? '+' : ''}${us(delta)} |`)
  }
  const keys = new Set([...baseline.self.keys(), ...plugin.self.keys()])
  const grew = [...keys].map(key => ({ key, delta: perB(plugin.self.get(key) ?? 0) - perA(baseline.self.get(key) ?? 0) }))
    .sort((a, b) => b.delta - a.delta).slice(0, 10)
  lines.push('', 'Self time that grew most from A to B:', '', '| function | B − A µs/req |', '| --- | ---: |')
  for (const { key, delta } of grew) lines.push(`| \`${key}\` | ${delta >= 0 ? '+' : ''}${us(delta)} |`)
  return lines
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [baseline, plugin] = process.argv.slice(2)
  if (baseline === undefined || plugin === undefined) {
    console.error('usage: node benchmarks/.build/benchmarks/profile.js <baseline.cpuprofile> <plugin.cpuprofile>')
    process.exitCode = 1
  } else {
    console.log(profileTables(analyse(baseline), analyse(plugin)).join('\n'))
  }
}
