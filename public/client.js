/*! fastify-session-security | MIT License | (c) fastify-session-security contributors */
// @ts-check
// The browser side of fastify-session-security: warns before a session ends (idle, or at its
// absolute end), and leaves the page when it has. The server decides: the client pings it when the
// session would reach a threshold (warnAfter, expireAfter) and trusts its answer. Tabs of one
// application share activity, answers and expiry, so that one tab asks and the others hear.
//
// An ES module, `fastify-session-security/client`, for applications that bundle their own scripts.
// Importing it touches no browser global: only start() does. The script that the plugin serves is
// this same code: the build (scripts/build-client.mjs) puts it and session-security.js, which
// starts it from its own tag's data-* attributes, into one function and minifies them.

/** Fired on `document` when a warning opens; detail: {@link WarnDetail}. */
export const WARN_EVENT = 'session-security:warn'
/** Fired on `document` when activity was recorded, here or in another tab; detail: {@link ActivityDetail}. */
export const ACTIVITY_EVENT = 'session-security:activity'
/** Fired on `document` when the page is about to leave; cancelable: `preventDefault()` keeps the page (the client stops either way). */
export const EXPIRE_EVENT = 'session-security:expire'

/**
 * @typedef {object} Options
 * @property {string} pingUrl the plugin's ping route; on this page's origin only
 * @property {number} warnAfter seconds of inactivity before the warning
 * @property {number} expireAfter seconds of inactivity before the session ends
 * @property {string} [returnToUrl] where to go when it ends (http or https); without it, reload
 * @property {string | false} [confirmFormDiscard] the question asked before leaving a changed form, or false
 * @property {string[]} [events] the activity events, instead of the default list
 * @property {string} [counterElementId] the element that shows the idle warning's countdown
 * @property {number} [idleFor] the session's idle seconds, as the server counted them when it rendered the page
 * @property {number} [absoluteIn] seconds until the session's absolute end (absoluteTimeout), as the server counted them when it rendered the page; without it, no absolute end is announced
 *
 * @typedef {'idle' | 'absolute'} End which end of the session a warning announces
 * @typedef {{ end: End, secondsLeft: number }} WarnDetail the detail of {@link WARN_EVENT}
 * @typedef {{ remote: boolean }} ActivityDetail the detail of {@link ACTIVITY_EVENT}: `remote` when it came from another tab
 * @typedef {{ 'session-security:warn': WarnDetail, 'session-security:activity': ActivityDetail, 'session-security:expire': null }} EventDetails each event's detail, by name
 */

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

/** @type {(() => void) | undefined} */
let stopRunningClient

/**
 * Starts the client (after stopping a running one). Throws a TypeError for bad options.
 * @param {Options} options
 */
export function start (options) {
  stop()
  const { warnAfter, expireAfter, absoluteIn } = options
  // Finite: an endless expireAfter would make every end look near, and announce one at once.
  if (!(warnAfter > 0 && expireAfter > warnAfter && expireAfter < Infinity)) throw new TypeError('SessionSecurity: warnAfter and expireAfter must be numbers, expireAfter the larger')
  if (absoluteIn !== undefined && !(absoluteIn >= 0)) throw new TypeError('SessionSecurity: absoluteIn must be a number of seconds')
  // A stray or injected tag must not make the page send its cookies elsewhere, or leave for a
  // javascript: address. (new URL throws a TypeError for what it cannot parse.)
  const pingUrl = new URL(options.pingUrl, location.href)
  if (pingUrl.origin !== location.origin) throw new TypeError('SessionSecurity: pingUrl must be on the page\'s own origin')
  const returnToUrl = options.returnToUrl ? new URL(options.returnToUrl, location.href) : undefined
  if (returnToUrl && returnToUrl.protocol !== 'https:' && returnToUrl.protocol !== 'http:') throw new TypeError('SessionSecurity: returnToUrl must be an http or https address')

  const doc = document
  const win = window
  const confirmFormDiscard = options.confirmFormDiscard ?? 'Discard changes?'
  const byId = (/** @type {string} */ id) => doc.getElementById(id)
  const dialog = /** @type {HTMLDialogElement | null} */ (doc.querySelector('dialog#session_security_warning'))
  const counter = byId(options.counterElementId || 'session_security_counter')
  const message = byId('session_security_message')
  const absoluteCounter = byId('session_security_absolute_counter')
  const absoluteMessage = byId('session_security_absolute_message')
  const liveRegion = dialog && dialog.querySelector('[aria-live]')
  const stayButton = dialog && dialog.querySelector('button')
  // What each warning shows: the idle one its heading, text and "Stay signed in" button; the one
  // before the absolute end its own heading and text (activity cannot extend it: no button).
  /** @type {Array<[HTMLElement | null, End]>} */
  const dialogParts = [
    [byId('session_security_title'), 'idle'],
    [message, 'idle'],
    [stayButton, 'idle'],
    [byId('session_security_absolute_title'), 'absolute'],
    [absoluteMessage, 'absolute']
  ]
  // Named after this application's ping URL: another application on the same origin has its
  // own, so its activity cannot keep this one alive, nor its expiry end it.
  const channelName = 'session-security:' + pingUrl.href
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(channelName) : null

  // Times are Date.now() values (performance.now() stops while a laptop sleeps) that never go
  // back: a clock set back (by hand, by a time sync, a virtual machine resumed) would put the last
  // activity in the future, and the page would tell the server "idle -3600 s", which it counts as
  // activity now, again and again. A jump back is seen at the next read (one a second at least);
  // the time since the read before it is lost. Tabs exchange plain Date.now() values.
  let clockOffset = 0
  let latestTime = 0
  const clock = () => {
    const time = Date.now() + clockOffset
    if (time < latestTime) clockOffset += latestTime - time
    else latestTime = time
    return latestTime
  }
  // The absolute end is the same for every tab of one sign-in: the server counts it from the
  // sign-in, and each page from the seconds left that the server wrote into it (relative, so the
  // browser's clock does not matter). Nothing moves it.
  const absoluteEndAt = absoluteIn === undefined ? Infinity : clock() + absoluteIn * 1000
  // Each end is announced this long before it.
  const announceMs = (expireAfter - warnAfter) * 1000
  // A page shown again by Back or Forward may come from the HTTP cache, with the idle time it
  // was rendered with, long ago: it knows of no activity at all until the server answers.
  const shownByBackOrForward = navigationType() === 'back_forward'
  // The latest activity that the server has counted: from the page (the server may not have
  // counted this very load, e.g. a navigation that another site started), then from answers.
  let serverLastActivity = shownByBackOrForward ? 0 : clock() - Math.max(0, options.idleFor || 0) * 1000
  // The latest activity of the user in any tab of this application, or the server's if later.
  let lastActivity = serverLastActivity
  let nextPingAt = 0
  // When the absolute end's warning opens, then when the end comes.
  let nextAbsoluteAt = Infinity
  let pingTimer = 0
  let absoluteTimer = 0
  let everySecondTimer = 0
  let pingInFlight = false
  // Content hidden until the server answers (a page shown by Back or Forward).
  let waitingForServer = false
  /** @type {End | undefined} the end that the warning on screen announces */
  let shownEnd
  let stopped = false
  let formChanged = false
  /** @type {Element | null} */
  let focusBeforeWarning = null

  /** Whole seconds since `since` (by default the last activity). */
  const idleSeconds = (since = lastActivity) => Math.floor((clock() - since) / 1000)

  /**
   * Fires the event on the document; false if a listener called preventDefault().
   * @param {string} name @param {object} [detail]
   */
  const fire = (name, detail) => doc.dispatchEvent(new CustomEvent(name, { detail, cancelable: true }))

  /** @param {boolean} hidden */
  const hideContent = hidden => doc.documentElement.classList.toggle(HIDE_CONTENT_CLASS, hidden)

  /** @param {{ type: 'user-activity' | 'server-answer', at: number } | { type: 'expired' }} tabMessage */
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
    const at = Number(tabMessage.at) + clockOffset
    // A time in the future is a broken clock or a forged message.
    if (!(at <= clock())) return
    if (tabMessage.type === 'server-answer') {
      if (at > serverLastActivity) serverLastActivity = at
    } else if (tabMessage.type !== 'user-activity') return
    if (at > lastActivity) {
      lastActivity = at
      if (tabMessage.type === 'user-activity') fire(ACTIVITY_EVENT, { remote: true })
    }
    update()
  }

  /** Brings the page in line with the idle time and the absolute end (leave, warn or not) and plans what comes next. */
  function update () {
    if (stopped) return
    clearTimeout(pingTimer)
    clearTimeout(absoluteTimer)
    const now = clock()
    // No answer and no activity moves the absolute end.
    if (now >= absoluteEndAt) return expire(true)
    nextAbsoluteAt = absoluteEndAt - announceMs > now ? absoluteEndAt - announceMs : absoluteEndAt
    if (nextAbsoluteAt < Infinity) absoluteTimer = setTimeout(update, Math.min(nextAbsoluteAt - now, LONGEST_TIMEOUT_MS))
    // Nothing shown, nothing decided, before the server has answered.
    if (waitingForServer) {
      pingTimer = setTimeout(ping, RETRY_MS)
      return
    }
    if (idleSeconds() >= expireAfter) return expire(true)
    hideContent(false)
    showOrHideWarning()
    // The server must hear of the user's activity before it would warn or log out: ping when
    // its own count reaches the next threshold; once past that (it agreed the user was idle),
    // when this page's does.
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
    const sentAt = clock()
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
        // Only a number of seconds: null, "", false or [] are no "idle 0 s".
        if (typeof answer !== 'number' || !(answer >= 0)) throw new TypeError('SessionSecurity: unexpected answer')
        serverLastActivity = clock() - answer * 1000
        waitingForServer = false
        tellOtherTabs({ type: 'server-answer', at: serverLastActivity - clockOffset })
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

  /** Seconds left before the end that the warning announces. */
  function secondsLeft () {
    return Math.max(0, shownEnd === 'absolute' ? Math.ceil((absoluteEndAt - clock()) / 1000) : expireAfter - idleSeconds())
  }

  function showCountdown () {
    const seconds = secondsLeft()
    const absolute = shownEnd === 'absolute'
    const countdown = absolute ? absoluteCounter : counter
    const text = absolute ? absoluteMessage : message
    if (countdown) countdown.textContent = Math.floor(seconds / 60) + ':' + String(seconds % 60).padStart(2, '0')
    // Screen readers hear the message every ten seconds, not every second.
    if (liveRegion && text && seconds % 10 === 0) liveRegion.textContent = text.textContent
  }

  /** Announces the end that comes first when it is near enough; hides the warning otherwise. */
  function showOrHideWarning () {
    // Equal lead times: once the absolute end is announced, activity only moves the idle end further.
    if (absoluteEndAt - clock() <= announceMs && absoluteEndAt <= lastActivity + expireAfter * 1000) showWarning('absolute')
    else if (idleSeconds() >= warnAfter) showWarning('idle')
    else hideWarning()
  }

  /** @param {End} end */
  function showWarning (end) {
    const absolute = end === 'absolute'
    if (shownEnd !== end) {
      hideWarning()
      shownEnd = end
      // Restarted, so that the countdown moves on whole seconds from now.
      startEverySecondCheck()
      if (dialog) {
        for (const [part, partOf] of dialogParts) if (part) part.hidden = partOf !== end
        dialog.setAttribute('aria-labelledby', absolute ? 'session_security_absolute_title' : 'session_security_title')
        dialog.setAttribute('aria-describedby', absolute ? 'session_security_absolute_message' : 'session_security_message')
        // The idle warning asks the user to answer: modal, focus on its button. The one before the
        // absolute end asks them to save their work, which the page must stay usable for: not
        // modal, and it takes no focus from what they are typing.
        dialog.setAttribute('aria-modal', String(!absolute))
        if (!absolute) {
          focusBeforeWarning = doc.activeElement
          if (!dialog.open) dialog.showModal()
          if (stayButton) stayButton.focus()
        }
      }
      showCountdown()
      // It takes no focus, so screen readers would not hear it otherwise.
      if (absolute && liveRegion && absoluteMessage) liveRegion.textContent = absoluteMessage.textContent
      fire(WARN_EVENT, { end, secondsLeft: secondsLeft() })
    } else showCountdown()
    // Opened by its attribute: show() would move the focus. Again if a script or Escape closed it,
    // since activity cannot answer it.
    if (absolute && dialog) dialog.open = true
  }

  function hideWarning () {
    if (!shownEnd) return
    const wasModal = shownEnd === 'idle'
    shownEnd = undefined
    if (liveRegion) liveRegion.textContent = ''
    if (dialog) dialog.close()
    if (wasModal && focusBeforeWarning instanceof HTMLElement) focusBeforeWarning.focus()
  }

  /** @param {boolean} tellTabs whether the other tabs have yet to hear of it */
  function expire (tellTabs) {
    if (tellTabs) tellOtherTabs({ type: 'expired' })
    // A page that cancels the event leaves by itself.
    const leave = fire(EXPIRE_EVENT)
    stop()
    if (!leave) return
    hideContent(true)
    // replace(): the expired page has no business in the history, where Back would find it.
    if (returnToUrl) location.replace(returnToUrl.href)
    else location.reload()
  }

  function noteActivity () {
    const now = clock()
    // While the idle warning shows, every input counts at once: it is the user answering it.
    const answering = shownEnd === 'idle'
    if (!answering && now - lastActivity < ACTIVITY_THROTTLE_MS) return
    // Input after the time was up (a laptop woken from sleep) must not revive the page: ask.
    if (idleSeconds(serverLastActivity) >= expireAfter) return ping()
    lastActivity = now
    tellOtherTabs({ type: 'user-activity', at: now - clockOffset })
    fire(ACTIVITY_EVENT, { remote: false })
    if (answering || now >= nextPingAt) ping()
    // The idle warning closes; the absolute end's stays (or opens, if its time has come).
    showOrHideWarning()
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
  // sign of life, and act at once on a moment that has passed meanwhile.
  function checkNow () {
    const now = clock()
    if (stopped || doc.hidden) return
    if (shownEnd) showWarning(shownEnd)
    if (now >= nextAbsoluteAt) update()
    if (!stopped && now >= nextPingAt) ping()
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

  /** @type {Array<[EventTarget, string[], (event: any) => void, (boolean | AddEventListenerOptions)?]>} */
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
    clearTimeout(absoluteTimer)
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
  tellOtherTabs({ type: 'server-answer', at: serverLastActivity - clockOffset })
  update()
}

/** Stops the client: every listener and timer removed, the warning closed. */
export function stop () {
  if (stopRunningClient) stopRunningClient()
  stopRunningClient = undefined
}

/** How the browser came to this document: 'navigate', 'reload', 'back_forward' or 'prerender'. */
function navigationType () {
  const entry = /** @type {PerformanceNavigationTiming | undefined} */ (performance.getEntriesByType('navigation')[0])
  return entry ? entry.type : ''
}
