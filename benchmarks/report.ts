// Turns a run into the markdown section of RESULTS.md and a short summary for the terminal.
import { readFileSync, writeFileSync } from 'node:fs'
import { TARGETS } from './config.js'
import type { DuelResult, RunResult } from './driver.js'
import { analyse, profileTables } from './profile.js'
import { busyShare, check, cpuPerRequest, describeBounds, fixed, measures, signed, throughput, type Counts, type Measured, type Verdict } from './stats.js'

interface Row { label: string, bounds: string, measured: Measured, verdict: Verdict, digits: number }

function rows (run: RunResult): Row[] {
  const measured = measures(run.duels.map(d => ({ ...d, name: d.duel.name })))
  return TARGETS.map(target => ({
    label: target.label,
    bounds: describeBounds(target),
    measured: measured[target.measure],
    verdict: check(target, measured[target.measure].value),
    digits: target.measure === 'bytesAdded' ? 0 : target.measure === 'commandsAdded' ? 4 : 3
  }))
}

function targetTable (list: Row[]): string[] {
  const lines = ['| target | bound | measured | duels: min–max | result |', '| --- | --- | ---: | --- | --- |']
  for (const r of list) {
    const value = r.digits === 4 ? signed(r.measured.value, 4) : fixed(r.measured.value, r.digits)
    const range = `${fixed(r.measured.spread.min, r.digits)}–${fixed(r.measured.spread.max, r.digits)} (${r.measured.spread.n})`
    lines.push(`| ${r.label} | ${r.bounds} | ${value} | ${range} | ${r.verdict} |`)
  }
  return lines
}

function duelTable (duels: DuelResult[]): string[] {
  const lines = [
    '| # | duel | started first | first req/s | second req/s | second/first | first µs/req | second µs/req | second/first | CPU 1 used | failures |',
    '| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'
  ]
  const rps = (c: Counts): string => Math.round(throughput(c)).toLocaleString('en-US')
  for (const d of duels) {
    const first = d.startedFirst === 'first' ? d.duel.first.id : d.duel.second.id
    lines.push(`| ${d.index} | ${d.duel.first.id} vs ${d.duel.second.id} | ${first} | ${rps(d.first)} | ${rps(d.second)} | ` +
      `${fixed(throughput(d.second) / throughput(d.first), 3)} | ${fixed(cpuPerRequest(d.first), 1)} | ${fixed(cpuPerRequest(d.second), 1)} | ` +
      `${fixed(cpuPerRequest(d.second) / cpuPerRequest(d.first), 3)} | ${fixed(100 * busyShare(d), 0)} % | ${d.first.failures + d.second.failures} |`)
  }
  return lines
}

/** Calls per request of each command, over every duel's window, for the servers of one scenario. */
function commandBreakdown (run: RunResult, id: string): string {
  const calls: Record<string, number> = {}
  let requests = 0
  for (const d of run.duels) {
    for (const side of ['first', 'second'] as const) {
      if (d.duel[side].id !== id) continue
      requests += d[side].requests
      for (const [command, n] of Object.entries(d.byCommand[side])) calls[command] = (calls[command] ?? 0) + n
    }
  }
  const parts = Object.entries(calls).sort((a, b) => b[1] - a[1]).map(([command, n]) => `${command} ${fixed(n / requests, 4)}`)
  return `${id}: ${parts.join(', ') || 'none'} (${requests.toLocaleString('en-US')} requests)`
}

/** The reproducing command: the BENCH_ settings that were set, then npm run bench. */
export function command (env: NodeJS.ProcessEnv): string {
  const quote = (value: string): string => /^[\w.,:/=-]*$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`
  const settings = Object.keys(env).filter(k => k.startsWith('BENCH_')).sort().map(k => `${k}=${quote(env[k] ?? '')}`)
  return [...settings, 'npm run bench'].join(' ')
}

/** An ablation run (BENCH_PAIR) names its two servers and says that the plugin's targets do not apply to them. */
function ablationNote (run: RunResult): string[] {
  const pair = run.settings.plan.find(d => d.name === 'plugin')
  if (!run.settings.ablation || pair === undefined) return []
  return [
    `- **Ablation:** A is \`${pair.first.label}\`, B is \`${pair.second.label}\`. The result column compares with the ` +
      'plugin\'s targets, which do not apply to this pair: read the ratios against the control.'
  ]
}

export function markdown (run: RunResult, title: string, cmd: string): string {
  const { machine: m, settings: s } = run
  const lines = [
    `### ${title}`,
    '',
    `- **Command:** \`${cmd}\``,
    `- **Code:** commit ${m.commit || 'unknown'}${m.dirty ? ', with uncommitted changes in index.ts or lib/' : ''}; ${m.date}.`,
    `- **Machine:** ${m.nproc} CPUs (nproc), ${m.cpuModel}; Node.js ${m.node}; redis-server ${m.redis}; ` +
      `${m.pinned ? 'servers pinned to CPU 1, autocannon and the redis-servers to CPU 0 (taskset)' : 'not pinned (no taskset)'}; ` +
      `load average (1 min) ${fixed(m.loadBefore, 2)} before, ${fixed(m.loadAfter, 2)} after.`,
    `- **Method:** ${s.duels} × A vs B and ${s.duels} × A vs A′ (duels) in a seeded random order (seed ${s.seed}); each duel starts a fresh ` +
      `pair of server processes, each with its own redis-server, loads both at once with ${s.connections} connections each ` +
      `for ${s.warmup} s of warm-up and ${s.seconds} s measured; CPU is each server's own user + system time.`,
    ...ablationNote(run),
    '',
    ...targetTable(rows(run)),
    '',
    ...duelTable(run.duels),
    '',
    'Redis commands per request (INFO commandstats of each server\'s own Redis; commands run inside a script count too):',
    '',
    ...['A', 'B', 'A′'].map(id => `- ${commandBreakdown(run, id)}`)
  ]
  const bytes = run.duels.find(d => d.duel.name === 'plugin')?.sessionBytes
  if (bytes !== undefined) lines.push(`- Stored session (STRLEN after login and one page): A ${bytes.first} bytes, B ${bytes.second} bytes.`)
  if (run.profile !== undefined) {
    lines.push('', 'CPU profile of one more A vs B duel, run with `--cpu-prof` after the measured ones:', '',
      ...profileTables(analyse(run.profile.baseline), analyse(run.profile.plugin)))
  }
  return lines.join('\n')
}

/** Short lines for the terminal. */
export function summary (run: RunResult): string {
  const list = rows(run)
  const lines = list.map(r => `${r.verdict.padEnd(4)}  ${r.label}${r.bounds === '' ? '' : ` (${r.bounds})`}: ` +
    `${fixed(r.measured.value, r.digits)}  [duels ${fixed(r.measured.spread.min, r.digits)}–${fixed(r.measured.spread.max, r.digits)}]`)
  if (list[0]?.verdict === 'FAIL') lines.push('The control pair is outside its bounds: this run cannot resolve differences of that size.')
  return lines.join('\n')
}

/**
 * Replaces the section between <!-- bench:NAME --> and <!-- /bench:NAME --> in the file; a new
 * section goes before <!-- bench:next -->, or at the end of a file without it.
 */
export function writeSection (path: string, name: string, text: string): void {
  writeFileSync(path, withSection(readFileSync(path, 'utf8'), name, text))
}

export function withSection (current: string, name: string, text: string): string {
  const open = `<!-- bench:${name} -->`
  const close = `<!-- /bench:${name} -->`
  const body = `${open}\n${text}\n${close}`
  const start = current.indexOf(open)
  const end = current.indexOf(close)
  if (start !== -1 && end > start) return current.slice(0, start) + body + current.slice(end + close.length)
  const next = current.indexOf('<!-- bench:next -->')
  if (next !== -1) return current.slice(0, next) + body + '\n\n' + current.slice(next)
  return current.replace(/\n*$/, '\n\n') + body + '\n'
}
