/*! fastify-session-security | MIT License | (c) fastify-session-security contributors */
// @ts-check
// The browser side of fastify-session-security: warns before an idle session ends, and leaves the
// page when it has. The server decides: the client pings it when the session would reach a
// threshold (warnAfter, expireAfter) and trusts its answer. Tabs of one application share
// activity, answers and expiry, so that one tab asks and the others hear.
//
// This is the readable source; what the plugin serves is a minified copy built from it
// (scripts/build-client.mjs).
(function () {
  'use strict'

  const win = /** @type {Window & { SessionSecurity?: object }} */ (window)
  // Too old a browser, or the script included twice: do nothing.
  if (typeof fetch !== 'function' || win.SessionSecurity) return

  const doc = document

  const EVENT_PREFIX = 'session-security:'
  // On <html> while the page must not show its content (leaving, or waiting for the server's
  // answer): the stylesheet hides <body> then.
  const HIDE_CONTENT_CLASS = 'session-security-cover'
  // Input that only a person makes. Scrolling is not in the list: the page scrolls itself
  // (scrollTo), the browser does (scroll anchoring while a feed grows above the reading
  // position), and so does another window that changes the #fragment of a page it opened.
  const DEFAULT_ACTIVITY_EVENTS = ['pointerdown', 'pointermove', 'keydown', 'touchstart', 'wheel']
  // Activity is noted at most once a second: pointer moves come by the hundred.
  const ACTIVITY_THROTTLE_MS = 1000
  // A ping that hangs must not keep the page up.
  const PING_TIMEOUT_MS = 10000
  // Tabs of one application would all ping at the same instant; a random delay lets one ask
  // first while the others hear its answer.
  const PING_JITTER_MS = 500
  // While a page shown by Back waits for an answer that did not come (offline), ask again.
  const RETRY_MS = 1000
  // setTimeout fires at once for longer delays.
  const LONGEST_TIMEOUT_MS = 2147483647

  /**
   * @typedef {object} Options
   * @property {string} pingUrl the plugin's ping route; on this page's origin only
   * @property {number} warnAfter seconds of inactivity before the warning
   * @property {number} expireAfter seconds of inactivity before the session ends
   * @property {string} [returnToUrl] where to go when it ends (http or https); without it, reload
   * @property {string | false} [confirmFormDiscard] the question asked before leaving a changed form, or false
   * @property {string[]} [events] the activity events, instead of the default list
   * @property {string} [counterElementId] the element that shows the countdown
   * @property {number} [idleFor] the session's idle seconds, as the server counted them when it rendered the page
   *
   * @typedef {{ type: 'user-activity' | 'server-answer', at: number } | { type: 'expired' }} TabMessage
   * @typedef {[EventTarget, string[], (event: any) => void, (boolean | AddEventListenerOptions)?]} Listener
   */

  /** @type {(() => void) | undefined} */
  let stopRunningClient

  /** @param {Options} options */
  function start (options) {
    stop()
    const { warnAfter, expireAfter } = options
    if (!(warnAfter > 0 && expireAfter > warnAfter)) throw new TypeError('SessionSecurity: warnAfter and expireAfter must be numbers, expireAfter the larger')
    // A stray or injected tag must not make the page send its cookies elsewhere, or leave for a
    // javascript: address. (new URL throws a TypeError for what it cannot parse.)
    const pingUrl = new URL(options.pingUrl, location.href)
    if (pingUrl.origin !== location.origin) throw new TypeError('SessionSecurity: pingUrl must be on the page\'s own origin')
    const returnToUrl = options.returnToUrl ? new URL(options.returnToUrl, location.href) : undefined
    if (returnToUrl && returnToUrl.protocol !== 'https:' && returnToUrl.protocol !== 'http:') throw new TypeError('SessionSecurity: returnToUrl must be an http or https address')

    const confirmFormDiscard = options.confirmFormDiscard ?? 'Discard changes?'
    const dialog = /** @type {HTMLDialogElement | null} */ (doc.querySelector('dialog#session_security_warning'))
    const counter = doc.getElementById(options.counterElementId || 'session_security_counter')
    const message = doc.getElementById('session_security_message')
    const liveRegion = dialog && dialog.querySelector('[aria-live]')
    const stayButton = dialog && dialog.querySelector('button')
    // Named after this application's ping URL: another application on the same origin has its
    // own, so its activity cannot keep this one alive, nor its expiry end it.
    const channelName = 'session-security:' + pingUrl.href
    const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(channelName) : null

    // Times are Date.now() values: performance.now() stops while a laptop sleeps.
    // A page shown again by Back or Forward may come from the HTTP cache, with the idle time it
    // was rendered with, long ago: it knows of no activity at all until the server answers.
    const shownByBackOrForward = navigationType() === 'back_forward'
    // The latest activity that the server has counted: from the page (the server may not have
    // counted this very load, e.g. a navigation that another site started), then from answers.
    let serverLastActivity = shownByBackOrForward ? 0 : Date.now() - (options.idleFor || 0) * 1000
    // The latest activity of the user in any tab of this application, or the server's if later.
    let lastActivity = serverLastActivity
    let nextPingAt = 0
    let pingTimer = 0
    let everySecondTimer = 0
    let pingInFlight = false
    // Content hidden until the server answers (a page shown by Back or Forward).
    let waitingForServer = false
    let warningShown = false
    let stopped = false
    let formChanged = false
    /** @type {Element | null} */
    let focusBeforeWarning = null

    /** Whole seconds since `since` (by default the last activity). */
    const idleSeconds = (since = lastActivity) => Math.floor((Date.now() - since) / 1000)

    /**
     * Fires session-security:<name> on the document; false if a listener called preventDefault().
     * @param {string} name @param {object} [detail]
     */
    const fire = (name, detail) => doc.dispatchEvent(new CustomEvent(EVENT_PREFIX + name, { detail, cancelable: true }))

    /** @param {boolean} hidden */
    const hideContent = hidden => doc.documentElement.classList.toggle(HIDE_CONTENT_CLASS, hidden)

    /** @param {TabMessage} tabMessage */
    function tellOtherTabs (tabMessage) {
      if (channel) return channel.postMessage(tabMessage)
      // No BroadcastChannel (Safari before 15.4): other tabs get a storage event.
      try {
        localStorage.setItem(channelName, JSON.stringify(tabMessage))
        localStorage.removeItem(channelName)
      } catch (_) {} // storage disabled or full: each tab on its own
    }

    /** @param {any} tabMessage */
    function hearOtherTab (tabMessage) {
      if (stopped || !tabMessage) return
      if (tabMessage.type === 'expired') return expire(false)
      const at = Number(tabMessage.at)
      // A time in the future is a broken clock or a forged message.
      if (!(at <= Date.now())) return
      if (tabMessage.type === 'server-answer') {
        if (at > serverLastActivity) serverLastActivity = at
      } else if (tabMessage.type !== 'user-activity') return
      if (at > lastActivity) {
        lastActivity = at
        if (tabMessage.type === 'user-activity') fire('activity', { remote: true })
      }
      update()
    }

    /** Brings the page in line with the idle time (leave, warn or not) and plans the next ping. */
    function update () {
      if (stopped) return
      clearTimeout(pingTimer)
      // Nothing shown, nothing decided, before the server has answered.
      if (waitingForServer) {
        pingTimer = setTimeout(ping, RETRY_MS)
        return
      }
      if (idleSeconds() >= expireAfter) return expire(true)
      hideContent(false)
      if (idleSeconds() < warnAfter) hideWarning()
      else showWarning()
      // The server must hear of the user's activity before it would warn or log out: ping when
      // its own count reaches the next threshold; once past that (it agreed the user was idle),
      // when this page's does.
      const now = Date.now()
      nextPingAt = nextThreshold(serverLastActivity)
      if (nextPingAt <= now) nextPingAt = nextThreshold(lastActivity)
      pingTimer = setTimeout(ping, Math.min(nextPingAt - now + Math.random() * PING_JITTER_MS, LONGEST_TIMEOUT_MS))
    }

    /** When the idle time counted from `since` reaches warnAfter, or expireAfter once past it. @param {number} since */
    function nextThreshold (since) {
      return since + 1000 * (idleSeconds(since) < warnAfter ? warnAfter : expireAfter)
    }

    /** Tells the server how long the user has been idle; its answer is the idle time it counts, or "logout". */
    function ping () {
      clearTimeout(pingTimer)
      if (stopped) return
      // By this page's clock the session is over (after a sleep, say): show nothing while asking.
      if (idleSeconds() >= expireAfter) hideContent(true)
      if (pingInFlight) return
      pingInFlight = true
      const sentAt = Date.now()
      const url = new URL(pingUrl.href)
      // A page that knows of no activity (shown again by Back) only asks.
      if (lastActivity > 0) url.searchParams.set('idleFor', String(idleSeconds()))
      const abort = new AbortController()
      const abortTimer = setTimeout(() => abort.abort(), PING_TIMEOUT_MS)
      fetch(url.href, { credentials: 'same-origin', cache: 'no-store', signal: abort.signal })
        .then(response => response.json())
        .then(answer => {
          if (stopped) return
          if (answer === 'logout') return expire(true)
          if (!(answer >= 0)) throw new TypeError('SessionSecurity: unexpected answer')
          serverLastActivity = Date.now() - answer * 1000
          waitingForServer = false
          tellOtherTabs({ type: 'server-answer', at: serverLastActivity })
        })
        // Offline or a broken answer: the page still leaves when its own clock says the time is up.
        .catch(() => {})
        .then(() => {
          clearTimeout(abortTimer)
          pingInFlight = false
          // The user was active while the ping was out, and the server would warn: tell it now.
          if (lastActivity > sentAt && idleSeconds(serverLastActivity) >= warnAfter) return ping()
          // The answer never erases newer activity.
          if (serverLastActivity > lastActivity) lastActivity = serverLastActivity
          update()
        })
    }

    function showCountdown () {
      const secondsLeft = Math.max(0, expireAfter - idleSeconds())
      if (counter) counter.textContent = Math.floor(secondsLeft / 60) + ':' + String(secondsLeft % 60).padStart(2, '0')
      // Screen readers hear the message every ten seconds, not every second.
      if (liveRegion && message && secondsLeft % 10 === 0) liveRegion.textContent = message.textContent
    }

    function showWarning () {
      showCountdown()
      if (warningShown) return
      warningShown = true
      // Restarted, so that the countdown moves on whole seconds from now.
      startEverySecondCheck()
      if (dialog) {
        focusBeforeWarning = doc.activeElement
        if (!dialog.open) dialog.showModal()
        if (stayButton) stayButton.focus()
      }
      fire('warn', { expireIn: expireAfter - idleSeconds() })
    }

    function hideWarning () {
      if (!warningShown) return
      warningShown = false
      if (liveRegion) liveRegion.textContent = ''
      if (dialog) dialog.close()
      if (focusBeforeWarning instanceof HTMLElement) focusBeforeWarning.focus()
    }

    /** @param {boolean} tellTabs whether the other tabs have yet to hear of it */
    function expire (tellTabs) {
      if (tellTabs) tellOtherTabs({ type: 'expired' })
      // A page that cancels the event leaves by itself.
      const leave = fire('expire')
      stop()
      if (!leave) return
      hideContent(true)
      // replace(): the expired page has no business in the history, where Back would find it.
      if (returnToUrl) location.replace(returnToUrl.href)
      else location.reload()
    }

    function noteActivity () {
      const now = Date.now()
      // While the warning shows, every input counts at once: it is the user answering it.
      if (!warningShown && now - lastActivity < ACTIVITY_THROTTLE_MS) return
      // Input after the time was up (a laptop woken from sleep) must not revive the page: ask.
      if (idleSeconds(serverLastActivity) >= expireAfter) return ping()
      lastActivity = now
      tellOtherTabs({ type: 'user-activity', at: now })
      fire('activity', { remote: false })
      if (warningShown || now >= nextPingAt) ping()
      hideWarning()
    }

    /** @param {MouseEvent} event */
    function onInput (event) {
      // Only what a person did: a script can dispatch any event, but never a trusted one.
      if (!event.isTrusted) return
      // Chrome sends pointer moves without movement when the layout changes under a still
      // pointer (the dialog opening, a feed growing).
      if ((event.type === 'pointermove' || event.type === 'mousemove') && !event.movementX && !event.movementY) return
      noteActivity()
    }

    // Timers are throttled in background tabs and stop while a laptop sleeps: check on every
    // sign of life, and ping at once when a threshold has passed meanwhile.
    function checkNow () {
      if (stopped || doc.hidden) return
      if (warningShown) showCountdown()
      if (Date.now() >= nextPingAt) ping()
    }

    // ... and once a second, for a wake that no event announces.
    function startEverySecondCheck () {
      clearInterval(everySecondTimer)
      everySecondTimer = setInterval(checkNow, 1000)
    }

    // Shown again by Back or Forward: the session may have ended meanwhile (a sign-out, an
    // expiry). Hide the content before the browser paints it, and show it only if the server says
    // the session is still alive.
    function hideUntilServerAnswers () {
      hideContent(true)
      waitingForServer = true
      ping()
    }

    /** @type {Listener[]} */
    const listeners = [
      [doc, options.events || DEFAULT_ACTIVITY_EVENTS, onInput, { capture: true, passive: true }],
      [doc, ['input', 'change'], event => {
        if (confirmFormDiscard && event.target.form) formChanged = true
      }, true],
      [doc, ['submit', 'reset'], () => { formChanged = false }, true],
      [win, ['focus', 'online'], checkNow],
      [doc, ['visibilitychange'], checkNow],
      [win, ['pageshow'], event => event.persisted ? hideUntilServerAnswers() : checkNow()],
      // Kept by the back-forward cache: stored hidden, so that its first frame on Back is too.
      [win, ['pagehide'], event => event.persisted && hideContent(true)],
      [win, ['beforeunload'], event => {
        if (formChanged && !stopped) {
          event.preventDefault()
          event.returnValue = confirmFormDiscard
        }
      }],
      [win, ['storage'], event => {
        if (event.key === channelName && event.newValue) hearOtherTab(JSON.parse(event.newValue))
      }]
    ]
    if (channel) listeners.push([channel, ['message'], event => hearOtherTab(event.data)])
    // "Stay signed in" by a click that the user made (keyboard and assistive technology click
    // too). Not the dialog's close event: a script's dialog.close() fires it as well.
    if (stayButton) listeners.push([stayButton, ['click'], event => event.isTrusted && noteActivity()])

    /** @param {boolean} add */
    function listen (add) {
      for (const [target, types, listener, listenerOptions] of listeners) {
        for (const type of types) {
          if (add) target.addEventListener(type, listener, listenerOptions)
          else target.removeEventListener(type, listener, listenerOptions)
        }
      }
    }

    stopRunningClient = () => {
      stopped = true
      clearTimeout(pingTimer)
      clearInterval(everySecondTimer)
      hideWarning()
      listen(false)
      if (channel) channel.close()
      hideContent(false)
    }
    startEverySecondCheck()
    listen(true)
    if (shownByBackOrForward) return hideUntilServerAnswers()
    // The server counted activity at that time (this page's load, maybe): the other tabs may not know.
    tellOtherTabs({ type: 'server-answer', at: serverLastActivity })
    update()
  }

  function stop () {
    if (stopRunningClient) stopRunningClient()
    stopRunningClient = undefined
  }

  /** How the browser came to this document: 'navigate', 'reload', 'back_forward' or 'prerender'. */
  function navigationType () {
    const entry = /** @type {PerformanceNavigationTiming | undefined} */ (performance.getEntriesByType('navigation')[0])
    return entry ? entry.type : ''
  }

  // The one global, on purpose: for pages that start and stop the client themselves.
  Object.defineProperty(win, 'SessionSecurity', { value: Object.freeze({ start, stop }) })

  // Started from its own tag's data-* attributes, so no inline script is needed (a CSP with
  // script-src 'self' works).
  const script = /** @type {HTMLScriptElement | null} */ (doc.currentScript || doc.querySelector('script[data-ping-url]'))
  const data = script && script.dataset
  if (data && data.pingUrl) {
    const startFromTag = () => start({
      pingUrl: data.pingUrl || '',
      warnAfter: Number(data.warnAfter),
      expireAfter: Number(data.expireAfter),
      idleFor: Number(data.idleFor),
      returnToUrl: data.returnToUrl,
      confirmFormDiscard: data.confirmFormDiscard,
      events: data.events ? data.events.split(' ') : undefined,
      counterElementId: data.counterElementId
    })
    // A script that is neither deferred nor at the end of the page runs before the dialog exists.
    if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', startFromTag)
    else startFromTag()
  }
})()
