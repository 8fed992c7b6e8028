// `fastify-session-security/client`: the browser client as an ES module with declarations, for
// applications that bundle their own scripts. Imported in Node (through the package's own
// exports), it touches no browser global until start() is called; it exports start, stop and the
// event names; its declarations compile without the DOM library; npm packs it. And it is the same
// code as the script that the plugin serves: dist/client/index.js is public/client.js as written,
// and the served script is what the build makes from exactly those bytes (a change to them changes
// it). Run `npm run build:client` first.
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { test } from 'tap'
import ts from 'typescript'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '..')
const moduleFile = join(root, 'dist/client/index.js')
const declarationsFile = join(root, 'dist/client/index.d.ts')

// Browser globals, and Node globals that the client uses only once started.
const WATCHED = ['window', 'document', 'location', 'navigator', 'localStorage', 'sessionStorage', 'performance', 'fetch', 'BroadcastChannel', 'CustomEvent', 'HTMLElement', 'addEventListener', 'setTimeout', 'setInterval']

/**
 * In a fresh Node (without tap's loaders), records every read of WATCHED on globalThis while the
 * specifier is imported, then reports what the module exports and what stop() did.
 */
async function importWatched (specifier: string): Promise<{ touched: string[], exports: Record<string, string>, events: string[], stopped: string }> {
  const script = `
    const touched = []
    for (const name of ${JSON.stringify(WATCHED)}) {
      const value = globalThis[name]
      Object.defineProperty(globalThis, name, { configurable: true, get () { touched.push(name); return value } })
    }
    const client = await import(${JSON.stringify(specifier)})
    const seen = [...touched]
    let stopped = 'ok'
    try { client.stop() } catch (err) { stopped = String(err) }
    const exports = Object.fromEntries(Object.entries(client).map(([key, value]) => [key, typeof value]))
    const events = [client.WARN_EVENT, client.ACTIVITY_EVENT, client.EXPIRE_EVENT]
    console.log(JSON.stringify({ touched: seen, exports, events, stopped }))
  `
  const { stdout } = await run('env', ['-u', 'NODE_OPTIONS', process.execPath, '--input-type=module', '-e', script], { cwd: root })
  return JSON.parse(stdout)
}

test('imported in Node, it touches no browser global; start, stop and the event names are there', async t => {
  const result = await importWatched('fastify-session-security/client')
  t.same(result.touched, [], 'no browser global read at import')
  t.match(result.exports, { start: 'function', stop: 'function', WARN_EVENT: 'string', ACTIVITY_EVENT: 'string', EXPIRE_EVENT: 'string' })
  t.same(result.events, ['session-security:warn', 'session-security:activity', 'session-security:expire'], 'the event names')
  t.equal(result.stopped, 'ok', 'stop() without a running client does nothing')
})

test('the probe sees a module that touches the page when it is loaded', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'fss-client-probe-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const touching = join(dir, 'touching.mjs')
  await writeFile(touching, 'export const title = typeof document === "undefined" ? "" : document.title\n')
  const result = await importWatched(touching)
  t.same(result.touched, ['document'], 'a read of document at import is seen')
})

test('the module is the same code as the served script', async t => {
  // The build's own function (a JavaScript module without declarations, hence the URL and the type).
  const build: { buildServedScript: (client: string, starter: string) => Promise<string> } = await import(pathToFileURL(join(root, 'scripts/build-client.mjs')).href)
  const { buildServedScript } = build
  const [module, source, starter, served] = await Promise.all([
    readFile(moduleFile, 'utf8'),
    readFile(join(root, 'public/client.js'), 'utf8'),
    readFile(join(root, 'public/session-security.js'), 'utf8'),
    readFile(join(root, 'dist/public/session-security.js'), 'utf8')
  ])
  t.equal(module, source, 'dist/client/index.js is public/client.js as written')
  t.equal(await buildServedScript(module, starter), served, 'the served script is built from the module\'s own bytes (npm run build:client)')
  const changed = module.replace('absoluteIn must be a number of seconds', 'absoluteIn must be a number')
  t.not(changed, module, 'a change to the module ...')
  t.not(await buildServedScript(changed, starter), served, '... changes what would be served')
  for (const name of ['session-security:warn', 'session-security:activity', 'session-security:expire']) {
    t.ok(served.includes(name), `the served script fires ${name}`)
  }
})

test('its declarations compile without the DOM library, and type the options and events', async t => {
  const declarations = await readFile(declarationsFile, 'utf8')
  t.match(declarations, /export function start\(options: Options\): void;/)
  t.match(declarations, /export function stop\(\): void;/)
  t.match(declarations, /export type WarnDetail = \{\s*end: End;\s*secondsLeft: number;\s*\};/)
  t.match(declarations, /export type End = "idle" \| "absolute";/)

  const dir = await mkdtemp(join(tmpdir(), 'fss-client-types-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'index.d.ts'), declarations)
  await writeFile(join(dir, 'consumer.ts'), `
    import { start, stop, WARN_EVENT, type EventDetails, type Options, type WarnDetail } from './index.js'
    const options: Options = { pingUrl: '/session_security/ping/', warnAfter: 540, expireAfter: 600, absoluteIn: 3600 }
    start(options)
    stop()
    const detail: WarnDetail = { end: 'absolute', secondsLeft: 60 }
    const same: EventDetails[typeof WARN_EVENT] = detail
    // @ts-expect-error: expireAfter is required
    start({ pingUrl: '/p', warnAfter: 1 })
    // @ts-expect-error: only the two ends
    const wrong: WarnDetail = { end: 'other', secondsLeft: 1 }
    export { same, wrong }
  `)
  const program = ts.createProgram([join(dir, 'consumer.ts')], {
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2022.d.ts'],
    types: []
  })
  const diagnostics = ts.getPreEmitDiagnostics(program).map(diagnostic => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'))
  t.same(diagnostics, [], 'a consumer without the DOM library compiles against them, and the wrong uses fail')
})

test('package.json exports it, and npm packs it', async t => {
  const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'))
  t.same(manifest.exports['./client'], { types: './dist/client/index.d.ts', default: './dist/client/index.js' })
  const { stdout } = await run('env', ['-u', 'NODE_OPTIONS', 'npm', 'pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, npm_config_loglevel: 'silent', npm_config_update_notifier: 'false' }
  })
  const files = new Set((JSON.parse(stdout)[0] as { files: Array<{ path: string }> }).files.map(file => file.path))
  for (const file of ['dist/client/index.js', 'dist/client/index.d.ts', 'public/client.js']) t.ok(files.has(file), `the tarball ships ${file}`)
})
