/*! fastify-session-security | MIT License | (c) fastify-session-security contributors */
// @ts-check
// Warns before an idle session ends, leaves when it does. The server decides: we ping it at the
// thresholds and trust the answer. Tabs share activity, answers and expiry.
(function () {
  'use strict'
  const win = /** @type {Window & { SessionSecurity?: object }} */ (window)
  if (typeof fetch !== 'function' || win.SessionSecurity) return

  const doc = document
  const KEY = 'session-security'

  /**
   * @typedef {{ pingUrl: string, warnAfter: number, expireAfter: number, returnToUrl?: string,
   *   confirmFormDiscard?: string | false, events?: string[], counterElementId?: string, idleFor?: number }} Options
   * @typedef {{ t: string, at?: number }} Message
   * @typedef {[EventTarget, string[], (event: any) => void, any?]} Binding
   */

  /** @type {(() => void) | undefined} */
  let teardown

  /** @param {Options} options */
  function start (options) {
    stop()
    const { pingUrl, warnAfter, expireAfter, returnToUrl } = options
    if (!pingUrl || !(warnAfter > 0 && expireAfter > warnAfter)) throw TypeError('SessionSecurity: bad options')
    const confirm = options.confirmFormDiscard ?? 'Discard changes?'
    const dialog = /** @type {HTMLDialogElement | null} */ (doc.querySelector('dialog#session_security_warning'))
    const counter = doc.getElementById(options.counterElementId || 'session_security_counter')
    const text = doc.getElementById('session_security_message')
    const live = dialog?.querySelector('[aria-live]')
    const button = dialog?.querySelector('button')
    const channel = self.BroadcastChannel ? new BroadcastChannel(KEY) : null

    // as the server counts it (it may not take this load as activity); Date.now(): performance.now() stops in sleep
    let told = Date.now() - (options.idleFor || 0) * 1000
    let lastActivity = told
    let due = 0
    let warned = false
    let expired = false
    let pinging = false
    let dirty = false
    let timer = 0
    let ticker = 0
    /** @type {any} */
    let focused

    const idle = (at = lastActivity) => Math.floor((Date.now() - at) / 1000)
    /** @param {string} name @param {object} [detail] */
    const fire = (name, detail) => doc.dispatchEvent(new CustomEvent(KEY + ':' + name, { detail, cancelable: true }))
    /** @param {boolean} on */
    const cover = on => doc.documentElement.classList.toggle(KEY + '-cover', on)

    /** @param {Message} message */
    function share (message) {
      if (channel) return channel.postMessage(message)
      try { // Safari < 15.4
        localStorage.setItem(KEY, JSON.stringify(message))
        localStorage.removeItem(KEY)
      } catch (_) {}
    }

    /** @param {Message} data */
    function receive (data) {
      if (expired || !data) return
      if (data.t === 'e') return expire(false)
      const at = Number(data.at)
      if (!(at <= Date.now())) return
      if (data.t === 'p') told = at
      if (at > lastActivity) {
        lastActivity = at
        if (data.t === 'a') fire('activity', { remote: true })
      }
      apply()
    }

    function apply () {
      if (expired) return
      clearTimeout(timer)
      if (idle() >= expireAfter) return expire(true)
      cover(false)
      idle() < warnAfter ? hide() : warn()
      const now = Date.now()
      // The server must hear of mouse and key activity before it would log out
      /** @param {number} at */
      const next = at => at + 1000 * (idle(at) < warnAfter ? warnAfter : expireAfter)
      due = next(told)
      if (due <= now) due = next(lastActivity)
      // one tab asks, others hear its answer
      timer = setTimeout(ping, Math.min(due - now + Math.random() * 500, 2e9))
    }

    /** @param {boolean} [hideNow] */
    function ping (hideNow) {
      clearTimeout(timer)
      if (expired) return
      // after sleep, bfcache: show nothing until the server answers
      if (hideNow || idle() >= expireAfter) cover(true)
      // one at a time
      if (pinging) return
      pinging = true
      const sentAt = Date.now()
      // a hung ping must not keep the page up
      const abort = new AbortController()
      const hung = setTimeout(() => abort.abort(), 1e4)
      fetch(pingUrl + (pingUrl.includes('?') ? '&' : '?') + 'idleFor=' + idle(), { credentials: 'same-origin', cache: 'no-store', signal: abort.signal })
        .then(response => response.json())
        .then(answer => {
          if (expired) return
          if (answer === 'logout') return expire(true)
          if (!(answer >= 0)) throw answer
          told = Date.now() - answer * 1000
          share({ t: 'p', at: told })
        })
        // offline: still leave when time is up
        .catch(() => {})
        .then(() => {
          pinging = false
          clearTimeout(hung)
          // activity since, and the server would warn: tell it
          if (lastActivity > sentAt && idle(told) >= warnAfter) return ping()
          // its answer never erases newer activity
          if (told > lastActivity) lastActivity = told
          apply()
        })
    }

    function tick () {
      const left = Math.max(0, expireAfter - idle())
      if (counter) counter.textContent = (left / 60 | 0) + ':' + String(left % 60).padStart(2, '0')
      if (live && text && left % 10 === 0) live.textContent = text.textContent
    }

    function warn () {
      tick()
      if (warned) return
      warned = true
      every()
      if (dialog) {
        focused = doc.activeElement
        if (!dialog.open) dialog.showModal()
        button?.focus()
      }
      fire('warn', { expireIn: expireAfter - idle() })
    }

    function hide () {
      if (!warned) return
      warned = false
      if (live) live.textContent = ''
      dialog?.close()
      focused?.focus?.()
    }

    /** @param {boolean} tell */
    function expire (tell) {
      expired = true
      if (tell) share({ t: 'e' })
      const leave = fire('expire')
      stop()
      if (!leave) return
      cover(true)
      addEventListener('pageshow', event => event.persisted && location.reload())
      returnToUrl ? location.assign(returnToUrl) : location.reload()
    }

    /** @param {boolean} [force] */
    function activity (force) {
      const now = Date.now()
      if (!force && now - lastActivity < 1000) return
      // input after sleep must not revive the page: ask the server
      if (idle(told) >= expireAfter) return ping()
      lastActivity = now
      share({ t: 'a', at: now })
      fire('activity', { remote: false })
      if (warned || now >= due) ping()
      hide()
    }

    /** @type {Binding[]} */
    const bindings = [
      // Chrome sends still mousemoves on layout changes (the dialog opening)
      [doc, options.events || ['mousemove', 'mousedown', 'keydown', 'scroll', 'wheel', 'touchstart'], event => {
        if (event.movementX || event.movementY || event.type !== 'mousemove') activity()
      }, { capture: true, passive: true }],
      [doc, ['input', 'change'], event => {
        if (confirm && event.target.form) dirty = true
      }, true],
      [doc, ['submit', 'reset'], () => { dirty = false }, true],
      // timers are throttled in background tabs, stop in sleep
      [win, ['focus', 'pageshow', 'online'], onWake],
      [doc, ['visibilitychange'], onWake],
      [win, ['beforeunload'], event => {
        if (dirty && !expired) {
          event.preventDefault()
          event.returnValue = confirm
        }
      }],
      [win, ['storage'], event => {
        if (event.key === KEY && event.newValue) receive(JSON.parse(event.newValue))
      }]
    ]
    if (channel) bindings.push([channel, ['message'], event => receive(event.data)])
    // the button, or Escape
    if (button) bindings.push([button, ['click'], () => activity(true)])
    if (dialog) bindings.push([dialog, ['close'], () => warned && activity(true)])

    /** @param {{ persisted?: boolean }} event */
    function onWake ({ persisted }) {
      if (expired || doc.hidden) return
      if (warned) tick()
      if (persisted || Date.now() >= due) ping(persisted)
    }

    /** @param {boolean} add */
    function bind (add) {
      for (const [target, types, listener, how] of bindings) {
        for (const type of types) add ? target.addEventListener(type, listener, how) : target.removeEventListener(type, listener, how)
      }
    }

    // and every second: a wake that no event announces leaves timers late
    function every () {
      clearInterval(ticker)
      ticker = setInterval(onWake, 1000, {})
    }

    teardown = () => {
      expired = true
      clearTimeout(timer)
      clearInterval(ticker)
      hide()
      bind(false)
      channel?.close()
      cover(false)
    }
    every()
    bind(true)
    share({ t: 'p', at: told })
    apply()
  }

  function stop () {
    teardown?.()
    teardown = undefined
  }

  Object.defineProperty(win, 'SessionSecurity', { value: Object.freeze({ start, stop }) })

  // no inline script (CSP)
  const script = /** @type {HTMLScriptElement | null} */ (doc.currentScript || doc.querySelector('script[data-ping-url]'))
  const data = script?.dataset
  if (data?.pingUrl) {
    const run = () => start({
      pingUrl: data.pingUrl || '',
      warnAfter: Number(data.warnAfter),
      expireAfter: Number(data.expireAfter),
      idleFor: Number(data.idleFor),
      returnToUrl: data.returnToUrl,
      confirmFormDiscard: data.confirmFormDiscard,
      events: data.events ? data.events.split(' ') : undefined,
      counterElementId: data.counterElementId
    })
    doc.readyState === 'loading' ? doc.addEventListener('DOMContentLoaded', run) : run()
  }
})()
