// The demo page's own script: a passive polling widget and a log of session-security events.
// Served as a file under a strict CSP (no inline script anywhere).
const clock = document.getElementById('server-clock')

async function pollServerTime () {
  try {
    const response = await fetch('/api/server-time', { cache: 'no-store' })
    clock.textContent = response.ok ? (await response.json()).time : 'signed out (' + response.status + ')'
  } catch {
    clock.textContent = 'unreachable'
  }
}

if (clock) {
  pollServerTime()
  setInterval(pollServerTime, 3000)
}

const eventLog = document.getElementById('event-log')

for (const name of ['warn', 'activity', 'expire']) {
  document.addEventListener('session-security:' + name, event => {
    if (!eventLog) return
    const item = document.createElement('li')
    item.textContent = new Date().toLocaleTimeString() + '  session-security:' + name + '  ' + JSON.stringify(event.detail || {})
    eventLog.prepend(item)
    while (eventLog.children.length > 8) eventLog.lastChild.remove()
  })
}
