// django-session-security's own client, run as it behaves from two tabs: each pings when its idle
// count reaches warnAfter and then expireAfter, reports the whole seconds it counts, and takes the
// server's answer as its new idle time. Those echoes must not move the last activity forward: a
// quarter of a second after expireAfter the session is over on the server (it lasted up to half a
// second longer when the merge compared milliseconds).
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'tap'
import { SessionSecurityStore } from '../../lib/store.js'
import { login, startApp } from '../helpers/app.js'

const WARN_AFTER = 2
const EXPIRE_AFTER = 4
const PING = '/session_security/ping/'

test('two tabs of the original client echoing answers do not extend a session past expireAfter', async t => {
  const { app } = await startApp(t, redis => ({
    store: new SessionSecurityStore({ client: redis, prefix: 'sess:' }),
    plugin: { warnAfter: WARN_AFTER, expireAfter: EXPIRE_AFTER }
  }))
  const cookie = await login(app)
  let lastActivity = 0
  const stop = new AbortController()

  /** A tab: its page load is a request (the user's activity), then the original client runs. */
  function tab (loadedAfterMs: number): { loaded: Promise<void>, done: Promise<void> } {
    const loaded = sleep(loadedAfterMs)
      .then(() => app.inject({ url: '/page', headers: { cookie } }))
      .then(() => { lastActivity = Math.max(lastActivity, Date.now()) })
    return { loaded, done: loaded.then(runOriginalClient) }
  }

  async function runOriginalClient (): Promise<void> {
    let last = Date.now()
    while (!stop.signal.aborted) {
      const idle = Math.floor((Date.now() - last) / 1000)
      if (idle >= EXPIRE_AFTER) return
      const next = idle >= WARN_AFTER ? EXPIRE_AFTER - idle : WARN_AFTER - idle
      // A browser's timer never fires before its delay; Node's can, by a millisecond of Date.now(),
      // and the tab would then report a whole second less than it counts (1 at 1.999 s): not an
      // echo, and merged as the protocol says.
      const due = Date.now() + next * 1000
      await sleep(next * 1000)
      while (Date.now() < due) await sleep(1)
      if (stop.signal.aborted) return
      const reported = Math.floor((Date.now() - last) / 1000)
      const response = await app.inject({ url: `${PING}?idleFor=${reported}`, headers: { cookie, 'sec-fetch-site': 'same-origin' } })
      if (response.json() === 'logout') return
      last = Date.now() - Number(response.json()) * 1000
    }
  }

  const tabs = [tab(0), tab(350)]
  // Both page loads must be done before the last activity is known: on a loaded machine the
  // second one can take longer than any fixed wait.
  await Promise.all(tabs.map(({ loaded }) => loaded))
  await sleep(lastActivity + EXPIRE_AFTER * 1000 + 250 - Date.now())
  const probe = await app.inject({ url: PING, headers: { cookie } })
  stop.abort()
  await Promise.all(tabs.map(({ done }) => done))
  t.equal(probe.body, '"logout"', `${EXPIRE_AFTER}.25 s after the last activity the session is over`)
})
