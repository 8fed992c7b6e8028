/*! fastify-session-security | MIT License | (c) fastify-session-security contributors */
// @ts-check
// The script that the plugin serves: the client (client.js) started from the data-* attributes
// of its own <script> tag, so that no inline script is needed (a CSP with script-src 'self'
// works), and window.SessionSecurity for pages that start and stop it themselves.
//
// A classic script, not a module: the build (scripts/build-client.mjs) puts client.js and this
// file into one function, without the import below, and minifies it. This is the readable source.
import { start, stop } from './client.js'

// Too old a browser, or the script included twice: do nothing.
if (typeof fetch === 'function' && !('SessionSecurity' in window)) {
  // The one global, on purpose.
  Object.defineProperty(window, 'SessionSecurity', { value: Object.freeze({ start, stop }) })

  const script = /** @type {HTMLScriptElement | null} */ (document.currentScript || document.querySelector('script[data-ping-url]'))
  const data = script && script.dataset
  if (data && data.pingUrl) {
    const startFromTag = () => start({
      pingUrl: data.pingUrl || '',
      warnAfter: Number(data.warnAfter),
      expireAfter: Number(data.expireAfter),
      idleFor: Number(data.idleFor),
      absoluteIn: data.absoluteIn ? Number(data.absoluteIn) : undefined,
      returnToUrl: data.returnToUrl,
      confirmFormDiscard: data.confirmFormDiscard,
      events: data.events ? data.events.split(' ') : undefined,
      counterElementId: data.counterElementId
    })
    // A script that is neither deferred nor at the end of the page runs before the dialog exists.
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', startFromTag)
    else startFromTag()
  }
}
