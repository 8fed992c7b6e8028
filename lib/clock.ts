// The activity clock: how a stored last activity is read and how idle time is counted.

const DASH = 45
const COLON = 58
const DOT = 46
const T = 84
const Z = 90
const ZERO = 48
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/** The number written by `length` ASCII digits at `at`, or NaN when one is not a digit. */
function digits (value: string, at: number, length: number): number {
  let n = 0
  for (let i = at; i < at + length; i++) {
    const d = value.charCodeAt(i) - ZERO
    if (d < 0 || d > 9) return Number.NaN
    n = n * 10 + d
  }
  return n
}

/**
 * Epoch ms of a stored last activity, or NaN when it is not a real date in the exact form that
 * `Date.prototype.toISOString()` writes (`2026-11-22T13:00:00.000Z`). Read character by character:
 * it runs on every authenticated request, and a regex with Date.parse cost more than the rest of
 * the hook together. Impossible dates (2026-02-30) are refused, not rolled over as Date.parse does.
 */
export function parseActivity (value: unknown): number {
  if (typeof value !== 'string' || value.length !== 24 ||
    value.charCodeAt(4) !== DASH || value.charCodeAt(7) !== DASH || value.charCodeAt(10) !== T ||
    value.charCodeAt(13) !== COLON || value.charCodeAt(16) !== COLON || value.charCodeAt(19) !== DOT ||
    value.charCodeAt(23) !== Z) return Number.NaN
  const year = digits(value, 0, 4)
  const month = digits(value, 5, 2)
  const day = digits(value, 8, 2)
  const hour = digits(value, 11, 2)
  const minute = digits(value, 14, 2)
  const second = digits(value, 17, 2)
  const ms = digits(value, 20, 3)
  // NaN fails every comparison below, so a non-digit anywhere ends here too.
  if (!(month >= 1 && month <= 12 && day >= 1 && hour <= 23 && minute <= 59 && second <= 59 && ms >= 0)) return Number.NaN
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  if (day > DAYS_IN_MONTH[month - 1] + (leap ? 1 : 0)) return Number.NaN
  return ((daysFromCivil(year, month, day) * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + ms
}

/**
 * Days from 1970-01-01 to a date of the proleptic Gregorian calendar, the same arithmetic as the
 * store's Lua (Date.UTC would read the years 0 to 99 as 1900 to 1999).
 */
function daysFromCivil (year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yearOfEra = y - era * 400
  const dayOfYear = Math.floor((153 * ((month + 9) % 12) + 2) / 5) + day - 1
  return era * 146_097 + yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear - 719_468
}

export function formatActivity (at: number): string {
  return new Date(at).toISOString()
}

/** Whole seconds between a last activity and now; no wrap at 24 hours. */
export function idleSeconds (now: number, last: number): number {
  return Math.floor((now - last) / 1000)
}
