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
  // Every request of a session reads the same value until the next activity write (at most once
  // a second): the last one read is kept with its result. A string compare costs less than a parse.
  if (value === lastRead) return lastParsed
  const parsed = parseIso(value)
  lastRead = value
  lastParsed = parsed
  return parsed
}

let lastRead: unknown
let lastParsed = Number.NaN

function parseIso (value: unknown): number {
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

/** A clock that can be asked for the time: Redis's, through SessionSecurityStore. */
export interface TimeSource {
  time (): Promise<number>
}

/**
 * Every instance measures idle and absolute time on Redis's clock, so a server whose own clock is
 * off changes no decision. The offset from this server's clock is measured with TIME once, then
 * refreshed by the activity writes that return Redis's time anyway; TIME is asked again only when
 * no such write came for `maxAgeMs`. Without a time source (a store that is not
 * SessionSecurityStore) it is this server's clock.
 */
export class SharedClock {
  #offset = 0
  #measuredAt = Number.NEGATIVE_INFINITY
  #pending: Promise<void> | undefined
  readonly #maxAgeMs: number

  constructor (maxAgeMs = 60_000) {
    this.#maxAgeMs = maxAgeMs
  }

  /** Now on the shared clock (epoch ms). */
  now (): number {
    return Date.now() + this.#offset
  }

  /** True when the offset must be measured before a decision. */
  stale (): boolean {
    return Date.now() - this.#measuredAt > this.#maxAgeMs
  }

  /** Takes Redis's time from a command sent at `sentAt` (this server's clock) and answered now. */
  observe (remoteNow: number, sentAt: number): void {
    const receivedAt = Date.now()
    this.#offset = Math.round(remoteNow - (sentAt + receivedAt) / 2)
    this.#measuredAt = receivedAt
  }

  /** Measures the offset with one TIME; concurrent callers share the one in flight. */
  sync (source: TimeSource): Promise<void> {
    if (this.#pending !== undefined) return this.#pending
    const sentAt = Date.now()
    const pending = source.time().then(remoteNow => this.observe(remoteNow, sentAt))
    this.#pending = pending
    const clear = (): void => { this.#pending = undefined }
    pending.then(clear, clear)
    return pending
  }

  /** Forgets the offset (the store changed). */
  reset (): void {
    this.#offset = 0
    this.#measuredAt = Number.NEGATIVE_INFINITY
  }
}
