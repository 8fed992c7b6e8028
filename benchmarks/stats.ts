// The arithmetic of the benchmark, without I/O: what one server counted over a measured window,
// ratios within a duel, medians and spreads across duels, and the target checks.
// Tested in test/benchmarks/stats.test.ts.
import type { Measure, Target } from './config.js'

/** What one server process counted over the measured window of a duel. */
export interface Counts {
  /** HTTP requests the server received in the window. */
  requests: number
  /** The server's own user + system CPU time in the window (process.cpuUsage()), in µs. */
  cpuMicros: number
  /** Length of the window by the server's clock, in seconds. */
  seconds: number
  /** Commands its private Redis executed in the window (INFO commandstats), the driver's INFO excluded. */
  commands: number
  /** Responses other than 2xx and socket errors seen by the load generator over the whole duel. */
  failures: number
}

export interface DuelCounts {
  first: Counts
  second: Counts
}

export interface Spread {
  median: number
  min: number
  max: number
  n: number
}

export type Verdict = 'pass' | 'FAIL' | 'info'

export function median (values: readonly number[]): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

export function spread (values: readonly number[]): Spread {
  if (values.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 }
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), n: values.length }
}

export const throughput = (c: Counts): number => c.requests / c.seconds
export const cpuPerRequest = (c: Counts): number => c.cpuMicros / c.requests
export const commandsPerRequest = (c: Counts): number => c.commands / c.requests

/** second / first for one metric, in each duel: both servers shared the CPU and the window. */
export function duelRatios (duels: readonly DuelCounts[], metric: (c: Counts) => number): number[] {
  return duels.map(d => metric(d.second) / metric(d.first))
}

/** Commands per request over every window together (the counts are exact, so pooled, not a median). */
export function pooledCommandsPerRequest (counts: readonly Counts[]): number {
  const requests = counts.reduce((n, c) => n + c.requests, 0)
  return counts.reduce((n, c) => n + c.commands, 0) / requests
}

/** Share of one CPU that the two servers of a duel used together: near 1 when the load saturates it. */
export function busyShare (d: DuelCounts): number {
  return (d.first.cpuMicros + d.second.cpuMicros) / 1e6 / Math.max(d.first.seconds, d.second.seconds)
}

/** A target without bounds is information; NaN never passes. */
export function check (target: Pick<Target, 'atLeast' | 'atMost'>, value: number): Verdict {
  if (target.atLeast === undefined && target.atMost === undefined) return 'info'
  if (Number.isNaN(value)) return 'FAIL'
  if (target.atLeast !== undefined && value < target.atLeast) return 'FAIL'
  if (target.atMost !== undefined && value > target.atMost) return 'FAIL'
  return 'pass'
}

export function describeBounds (target: Pick<Target, 'atLeast' | 'atMost'>): string {
  const { atLeast, atMost } = target
  if (atLeast !== undefined && atMost !== undefined) return `${atLeast}–${atMost}`
  if (atLeast !== undefined) return `≥ ${atLeast}`
  if (atMost !== undefined) return `≤ ${atMost}`
  return ''
}

/** A number with `digits` decimals, or n/a (a ratio of nothing). */
export const fixed = (value: number, digits: number): string => Number.isFinite(value) ? value.toFixed(digits) : 'n/a'

/** A difference with its sign; one that rounds to zero reads +0 (never -0.00). */
export function signed (value: number, digits: number): string {
  const text = fixed(value, digits)
  return Number(text) < 0 || text === 'n/a' ? text : `+${text.replace('-', '')}`
}

/** A small seeded generator (mulberry32), so that a run's order can be repeated. */
export function seededRandom (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6D2B79F5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Fisher–Yates on a copy. */
export function shuffle<T> (items: readonly T[], random: () => number): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const swap = out[i]
    out[i] = out[j]
    out[j] = swap
  }
  return out
}

/** A duel as the measures need it. */
export interface MeasuredDuel extends DuelCounts {
  name: 'plugin' | 'control'
  sessionBytes: { first: number, second: number }
}

/** The number a target is checked against, and how it varied across duels. */
export interface Measured {
  value: number
  spread: Spread
}

/**
 * Every measure of config.ts over a run. Ratios are per duel and checked by their median;
 * commands per request are pooled per side (the counts are exact); bytes by the largest
 * difference seen, so that one bigger session is not hidden.
 */
export function measures (duels: readonly MeasuredDuel[]): Record<Measure, Measured> {
  const control = duels.filter(d => d.name === 'control')
  const plugin = duels.filter(d => d.name === 'plugin')
  const byMedian = (values: number[]): Measured => ({ value: median(values), spread: spread(values) })
  const bytes = spread(plugin.map(d => d.sessionBytes.second - d.sessionBytes.first))
  return {
    controlThroughput: byMedian(duelRatios(control, throughput)),
    controlCpu: byMedian(duelRatios(control, cpuPerRequest)),
    throughput: byMedian(duelRatios(plugin, throughput)),
    cpu: byMedian(duelRatios(plugin, cpuPerRequest)),
    commandsAdded: {
      value: pooledCommandsPerRequest(plugin.map(d => d.second)) - pooledCommandsPerRequest(plugin.map(d => d.first)),
      spread: spread(plugin.map(d => commandsPerRequest(d.second) - commandsPerRequest(d.first)))
    },
    bytesAdded: { value: bytes.max, spread: bytes }
  }
}
