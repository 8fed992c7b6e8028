// The HTML block that an authenticated page includes: the stylesheet, the warning dialog and the
// script tag whose data-* attributes start the client (no inline script, so a strict CSP works).
// Synchronous on purpose: the onRequest hook has already decided, and it may have just logged the
// user out, which the request's state reflects. A page that rendered it is marked, so that its
// response is not stored by the browser (`noStore`).
import type { FastifyRequest } from 'fastify'
import type { SnippetOptions } from '../types/index.js'
import { matchLocale, messagesFor, negotiateLocale, DEFAULT_LOCALE } from './i18n.js'
import { warnAfterFor, type Settings } from './options.js'
import { idleSeconds, type SharedClock } from './clock.js'
import { markSnippetRendered, stateOf } from './state.js'

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;'
}

/** Text or attribute value made safe for HTML (both quote kinds, so any attribute quoting is safe). */
export function escapeHtml (value: string): string {
  return value.replace(/[&<>"']/g, char => ESCAPES[char])
}

/** Seconds as the dialog's clock shows them: m:ss. */
export function formatCountdown (seconds: number): string {
  const whole = Math.max(0, Math.ceil(seconds))
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`
}

function pickLocale (request: FastifyRequest, options: SnippetOptions | undefined): string {
  if (typeof options?.locale === 'string') return matchLocale(options.locale) ?? DEFAULT_LOCALE
  const header = request.headers['accept-language']
  return negotiateLocale(Array.isArray(header) ? header.join(',') : header)
}

export function createSnippet (settings: Settings, version: string, clock: SharedClock): (request: FastifyRequest, options?: SnippetOptions) => string {
  const query = `?v=${encodeURIComponent(version)}`
  const cssUrl = escapeHtml(`${settings.staticPrefix}session-security.css${query}`)
  const jsUrl = escapeHtml(`${settings.staticPrefix}session-security.js${query}`)
  const pingUrl = escapeHtml(settings.pingUrl)
  const returnTo = settings.returnToUrl === undefined ? '' : ` data-return-to-url="${escapeHtml(settings.returnToUrl)}"`

  return function snippet (request: FastifyRequest, options?: SnippetOptions): string {
    const state = stateOf(request)
    // Anonymous, or logged out by this very request: nothing to warn about.
    if (state.status !== 'signed-in') return ''
    markSnippetRendered(request)
    const { expireAfter } = state
    const warnAfter = warnAfterFor(settings, expireAfter)
    const locale = pickLocale(request, options)
    const text = messagesFor(locale)
    const nonce = typeof options?.nonce === 'string' && options.nonce !== '' ? ` nonce="${escapeHtml(options.nonce)}"` : ''
    const counter = `<span id="session_security_counter">${formatCountdown(expireAfter - warnAfter)}</span>`
    const message = text.message.split('{counter}').map(escapeHtml).join(counter)
    // The idle time that the server counts, so the page starts from it: a load that the server did
    // not take as activity (a navigation another site started) must not count in the browser either.
    const now = clock.now()
    const idleFor = Math.max(0, idleSeconds(now, state.lastActivity))
    // Seconds left before the absolute end, relative so that the browser's own clock does not matter;
    // rounded up, so that the page never leaves before the server has ended the session (a page that
    // left a moment early would reload into a session still alive).
    const absoluteIn = Number.isFinite(state.absoluteEnd) ? Math.max(0, Math.ceil((state.absoluteEnd - now) / 1000)) : undefined
    const absolute = absoluteIn === undefined ? '' : ` data-absolute-in="${absoluteIn}"`
    // The warning before the absolute end has its own heading and text (activity cannot extend
    // it), shown by the client in place of the idle ones.
    const absoluteCounter = `<span id="session_security_absolute_counter">${formatCountdown(expireAfter - warnAfter)}</span>`
    const absoluteText = absoluteIn === undefined
      ? ''
      : `<h2 id="session_security_absolute_title" hidden>${escapeHtml(text.absoluteTitle)}</h2>` +
        `<p id="session_security_absolute_message" hidden>${text.absoluteMessage.split('{counter}').map(escapeHtml).join(absoluteCounter)}</p>`

    return `<link rel="stylesheet" href="${cssUrl}"${nonce}>` +
      `<dialog id="session_security_warning" class="session-security" role="alertdialog" aria-modal="true" aria-labelledby="session_security_title" aria-describedby="session_security_message" lang="${locale}">` +
      `<h2 id="session_security_title">${escapeHtml(text.title)}</h2>` +
      `<p id="session_security_message">${message}</p>` +
      absoluteText +
      '<p class="session-security-live" aria-live="polite"></p>' +
      `<button type="button" class="session-security-stay" autofocus>${escapeHtml(text.stay)}</button>` +
      '</dialog>' +
      `<script src="${jsUrl}" defer${nonce} data-ping-url="${pingUrl}" data-warn-after="${warnAfter}" data-expire-after="${expireAfter}" data-idle-for="${idleFor}"${absolute}${returnTo}` +
      ` data-confirm-form-discard="${escapeHtml(text.confirmFormDiscard)}"></script>`
  }
}
