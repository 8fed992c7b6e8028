// Reads the V8 .cpuprofile files of the profiled duel (server.ts writes the request count next to
// each) and puts them in µs per request: report.ts adds the tables to RESULTS.md. By hand:
//
//   node benchmarks/.build/benchmarks/profile.js <baseline.cpuprofile> <plugin.cpuprofile>
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { fixed, signed } from './stats.js'

export interface CallFrame { functionName: string, url: string, lineNumber: number }
interface ProfileNode { id: number, callFrame: CallFrame }
interface CpuProfile { nodes: ProfileNode[], samples: number[], timeDeltas: number[] }

export interface Analysis {
  /** Sampled time that was not idle, in µs. */
  busy: number
  /** Self time per function ("name file:line"), in µs. */
  self: Map<string, number>
  /** Self time per place the code comes from (see `placeOf`), in µs. */
  byPlace: Map<string, number>
  /** Self time per function of the plugin's own files, in µs. */
  own: Map<string, number>
  requests: number
}

/** The benchmark's build folder at the start of a frame's URL. */
const BUILD = /^file:\/\/.*?\/benchmarks\/\.build\//
/** The plugin's compiled files in the benchmark's build. */
const isPluginFile = (url: string): boolean => /\/benchmarks\/\.build\/(index\.js|lib\/)/.test(url)
const isIdle = (name: string): boolean => name === '(idle)' || name === '(program)'
export const OWN_CODE = 'fastify-session-security (its own files)'

/**
 * Where a frame's code comes from: the plugin's own files, an npm package (the innermost, by name),
 * Node.js's own JavaScript, or a frame without a script (by function: the garbage collector, Node's
 * C++ bindings such as `writev`, a regular expression, code compiled from a string). V8's built-ins
 * such as `JSON.parse` have no frame of their own: they count in their caller's self time. Self time
 * summed by place is steadier than by function: inlining moves time between the functions of one
 * place, rarely between places.
 */
export function placeOf (frame: CallFrame): string {
  const { url } = frame
  if (isPluginFile(url)) return OWN_CODE
  const inPackage = /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)
  if (inPackage !== null) return inPackage[1] as string
  if (url.startsWith('node:')) return 'Node.js (its JavaScript)'
  if (url === '') return `native: ${frame.functionName === '' ? '(anonymous)' : frame.functionName}`
  return url.replace(BUILD, '')
}

function describe (frame: CallFrame): string {
  const file = frame.url === ''
    ? '(native)'
    : frame.url.replace(/^file:\/\/.*?\/node_modules\//, '').replace(BUILD, '')
  return `${frame.functionName === '' ? '(anonymous)' : frame.functionName} ${file}:${frame.lineNumber + 1}`
}

export function analyse (path: string): Analysis {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile
  const countFile = `${path}.requests.json`
  if (!existsSync(countFile)) throw new Error(`no request count next to ${path}`)
  const { requests } = JSON.parse(readFileSync(countFile, 'utf8')) as { requests: number }

  const byId = new Map(profile.nodes.map(n => [n.id, n]))
  const timeByNode = new Map<number, number>()
  profile.samples.forEach((id, i) => timeByNode.set(id, (timeByNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))

  let busy = 0
  const self = new Map<string, number>()
  const byPlace = new Map<string, number>()
  const own = new Map<string, number>()
  const add = (map: Map<string, number>, key: string, t: number): void => { map.set(key, (map.get(key) ?? 0) + t) }
  for (const [id, t] of timeByNode) {
    const node = byId.get(id)
    if (node === undefined || isIdle(node.callFrame.functionName)) continue
    busy += t
    const key = describe(node.callFrame)
    add(self, key, t)
    const place = placeOf(node.callFrame)
    add(byPlace, place, t)
    if (place === OWN_CODE) add(own, key, t)
  }
  return { busy, self, byPlace, own, requests }
}

const us = (value: number): string => fixed(value, 2)

/** Markdown: busy time per request, self time by where the code comes from, the plugin's own functions, and B's top functions against A's. */
export function profileTables (baseline: Analysis, plugin: Analysis, top = 15): string[] {
  const perA = (t: number): number => t / baseline.requests
  const perB = (t: number): number => t / plugin.requests
  const lines = [
    `Busy CPU per request under the profiler (sampling every 100 µs, which slows both alike): A ${us(perA(baseline.busy))} µs, ` +
      `B ${us(perB(plugin.busy))} µs (B/A ${(perB(plugin.busy) / perA(baseline.busy)).toFixed(3)}); ` +
      `${baseline.requests.toLocaleString('en-US')} and ${plugin.requests.toLocaleString('en-US')} requests.`,
    '',
    'Self time by where the code comes from, the largest differences first (the share is of each server\'s busy time; the ' +
      'sampler runs on wall time, so a server that waits for the CPU it shares reads slower than its CPU time, alike for both). ' +
      'V8\'s built-ins count in their caller: `JSON.parse` of the session is in connect-redis in A, in the plugin\'s store in B:',
    '',
    '| code | A µs/req | B µs/req | B − A | A share | B share |',
    '| --- | ---: | ---: | ---: | ---: | ---: |'
  ]
  const share = (t: number, of: Analysis): string => `${(100 * t / of.busy).toFixed(2)} %`
  const places = new Set([...baseline.byPlace.keys(), ...plugin.byPlace.keys()])
  const placeRows = [...places].map(place => {
    const a = baseline.byPlace.get(place) ?? 0
    const b = plugin.byPlace.get(place) ?? 0
    return { place, a, b, delta: perB(b) - perA(a) }
  }).sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta)).slice(0, top)
  for (const { place, a, b, delta } of placeRows) {
    lines.push(`| ${place} | ${us(perA(a))} | ${us(perB(b))} | ${signed(delta, 2)} | ${share(a, baseline)} | ${share(b, plugin)} |`)
  }
  lines.push('', `B's own functions (${OWN_CODE}) by self time:`, '',
    '| function | µs per request | share of B\'s busy time |', '| --- | ---: | ---: |')
  for (const [key, t] of [...plugin.own].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(`| \`${key}\` | ${us(perB(t))} | ${share(t, plugin)} |`)
  }
  if (plugin.own.size === 0) lines.push('| (none: B does not load the plugin) | | |')
  lines.push('', `Top ${top} functions of B by self time, against the same function in A:`, '',
    '| function | B µs/req | A µs/req | B − A |', '| --- | ---: | ---: | ---: |')
  for (const [key, t] of [...plugin.self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    const inA = perA(baseline.self.get(key) ?? 0)
    const delta = perB(t) - inA
    lines.push(`| \`${key}\` | ${us(perB(t))} | ${us(inA)} | ${signed(delta, 2)} |`)
  }
  const keys = new Set([...baseline.self.keys(), ...plugin.self.keys()])
  const grew = [...keys].map(key => ({ key, delta: perB(plugin.self.get(key) ?? 0) - perA(baseline.self.get(key) ?? 0) }))
    .sort((a, b) => b.delta - a.delta).slice(0, 10)
  lines.push('', 'Self time that grew most from A to B:', '', '| function | B − A µs/req |', '| --- | ---: |')
  for (const { key, delta } of grew) lines.push(`| \`${key}\` | ${signed(delta, 2)} |`)
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
