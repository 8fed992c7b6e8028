// What the plugin knows of a request's sign-in, with one owner: the onRequest hook and the
// activity recorder move a request through these named transitions, and the ping, the snippet and
// the response hooks only read it. Kept on a Symbol, never on a public name.
import type { FastifyRequest } from 'fastify'
import type { EndReason } from './store.js'

/** A signed-in request: its idle timeout, last activity and sign-in instant, on the shared clock. */
export interface SignedIn {
  readonly status: 'signed-in'
  /** Idle timeout that applies to this user (seconds). */
  readonly expireAfter: number
  /** Last activity (epoch ms, shared clock). */
  lastActivity: number
  /** When the absolute timeout ends this sign-in (epoch ms, shared clock); Infinity when off. */
  readonly absoluteEnd: number
  /** The id of the session that was measured (a handler may rotate it with `regenerate`). */
  readonly sessionId: string
}

/** A request whose session ended: by this request (the plugin's expiry) or earlier (a tombstone). */
export interface SignedOut {
  readonly status: 'signed-out'
  readonly reason: EndReason
  /** Idle seconds when it ended; 0 where no longer known. */
  readonly idleFor: number
  /** True when this request ended it (the response carries Clear-Site-Data when configured). */
  readonly endedHere: boolean
}

export interface Anonymous {
  readonly status: 'anonymous'
}

export type RequestState = SignedIn | SignedOut | Anonymous

const kState = Symbol('fastify-session-security.state')
const kSnippetRendered = Symbol('fastify-session-security.snippetRendered')
const ANONYMOUS: Anonymous = Object.freeze({ status: 'anonymous' })

declare module 'fastify' {
  interface FastifyRequest {
    [kState]: RequestState | null
    [kSnippetRendered]: boolean
  }
}

/** Decorates the request prototype once, so every request starts anonymous. */
export function decorateState (fastify: { decorateRequest: (name: symbol, value: null | boolean) => unknown }): void {
  fastify.decorateRequest(kState, null)
  fastify.decorateRequest(kSnippetRendered, false)
}

export function stateOf (request: FastifyRequest): RequestState {
  return request[kState] ?? ANONYMOUS
}

/** The request's user is signed in, in its current session; activity may still move with `activitySeen`. */
export function signedIn (request: FastifyRequest, sessionId: string, expireAfter: number, lastActivity: number, absoluteEnd: number): SignedIn {
  const state: SignedIn = { status: 'signed-in', expireAfter, lastActivity, absoluteEnd, sessionId }
  request[kState] = state
  return state
}

/** When a signed-in request's session ends unless activity comes first: its idle or absolute end (epoch ms, shared clock). */
export function sessionEnd (state: SignedIn): number {
  return Math.min(state.lastActivity + state.expireAfter * 1000, state.absoluteEnd)
}

/** The store kept a later last activity for this signed-in request. */
export function activitySeen (request: FastifyRequest, at: number): void {
  const state = request[kState]
  if (state?.status === 'signed-in' && at > state.lastActivity) state.lastActivity = at
}

/** The request's session ended, here or before, for `reason`. */
export function signedOut (request: FastifyRequest, reason: EndReason, idleFor: number, endedHere: boolean): SignedOut {
  const state: SignedOut = Object.freeze({ status: 'signed-out', reason, idleFor, endedHere })
  request[kState] = state
  return state
}

/** The session left the store while the request ran, for no known reason: the request is anonymous. */
export function sessionLost (request: FastifyRequest): void {
  request[kState] = ANONYMOUS
}

/** The page includes the client: its response must not be kept by the browser (`noStore`). */
export function markSnippetRendered (request: FastifyRequest): void {
  request[kSnippetRendered] = true
}

export function snippetRendered (request: FastifyRequest): boolean {
  return request[kSnippetRendered]
}
