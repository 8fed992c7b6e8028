// The activity clock: how a stored last activity is read and how idle time is counted.

/** The exact form that `Date.prototype.toISOString()` writes for years 0000-9999. */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

/** Epoch ms of a stored last activity, or NaN when it is not a date in the stored format. */
export function parseActivity (value: unknown): number {
  return typeof value === 'string' && ISO_UTC.test(value) ? Date.parse(value) : Number.NaN
}

export function formatActivity (at: number): string {
  return new Date(at).toISOString()
}

/** Whole seconds between a last activity and now; no wrap at 24 hours. */
export function idleSeconds (now: number, last: number): number {
  return Math.floor((now - last) / 1000)
}
