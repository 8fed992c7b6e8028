// The package as users get it: `npm pack` of a clean copy runs the prepack build; the tarball
// holds the built code, the declarations, the served (minified) client and its readable source,
// and the license, and nothing of the repository's tests or sources; installed, it loads with
// import and with require() (Node 20.19+ require(esm)), serves its client from where it is
// installed, and its peers install next to current Redis clients.
import { readdirSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t0 from 'tap'
import { findPackageRoot } from '../lib/assets.js'
import { installTarball, packCleanCopy, root, runClean } from './types/pack.js'

const semver = createRequire(import.meta.url)('semver') as { satisfies (version: string, range: string): boolean }

const dir = await mkdtemp(join(tmpdir(), 'fss-package-'))
t0.teardown(() => rm(dir, { recursive: true, force: true }))
const packed = await packCleanCopy(dir)
const project = join(dir, 'project')
const installed = await installTarball(packed.tarball, project)
const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8'))

/** The modules of a source folder, as the build names them in dist/. */
function built (folder: string): string[] {
  return readdirSync(join(root, folder))
    .filter(file => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .flatMap(file => {
      const base = `dist/${folder}/${file.slice(0, -'.ts'.length)}`
      return [`${base}.js`, `${base}.d.ts`]
    })
}

t0.test('the tarball holds what users need', async t => {
  const files = new Set(packed.files)
  const expected = [
    'package.json',
    'README.md',
    'LICENSE',
    'dist/index.js',
    'dist/index.d.ts',
    'dist/lib/store.js',
    'dist/lib/store.d.ts',
    ...built('lib'),
    ...built('types'),
    'public/session-security.js',
    'public/session-security.css',
    'dist/public/session-security.js',
    'dist/public/session-security.css'
  ]
  for (const file of expected) t.ok(files.has(file), `ships ${file}`)
})

t0.test('the tarball holds nothing of the repository\'s tests, tools or TypeScript sources', async t => {
  const stray = packed.files.filter(file =>
    /^(test|benchmarks|example|scripts|coverage|node_modules|\.tap|\.ci|\.demo-build)\//.test(file) ||
    /^tsconfig.*\.json$/.test(file) ||
    (/\.[cm]?ts$/.test(file) && !/\.d\.[cm]?ts$/.test(file)) ||
    /\.(tgz|cpuprofile|log)$/.test(file)
  )
  t.same(stray, [], 'no stray files')
})

t0.test('the tarball was built by prepack from a copy without dist/', async t => {
  t.match(manifest.scripts?.prepack, /npm run build/, 'prepack builds')
  t.ok(packed.files.includes('dist/index.js'), 'dist/ exists only because prepack made it')
  const license = await readFile(join(installed, 'LICENSE'), 'utf8')
  t.match(license, /^MIT License/, 'LICENSE is the MIT license')
  t.equal(manifest.license, 'MIT')
})

t0.test('the installed package loads with import and with require()', async t => {
  const esm = await runClean(process.execPath, ['--input-type=module', '-e', `
    const plugin = await import('fastify-session-security')
    const store = await import('fastify-session-security/store')
    console.log(JSON.stringify({
      plugin: typeof plugin.default,
      name: plugin.default[Symbol.for('plugin-meta')].name,
      errors: typeof plugin.InvalidOptionError,
      store: typeof store.SessionSecurityStore
    }))
  `], { cwd: project })
  t.same(JSON.parse(esm.stdout), { plugin: 'function', name: 'fastify-session-security', errors: 'function', store: 'function' }, 'import')

  const cjs = await runClean(process.execPath, ['--no-warnings', '-e', `
    const plugin = require('fastify-session-security')
    const { SessionSecurityStore } = require('fastify-session-security/store')
    console.log(JSON.stringify({ plugin: typeof plugin.default, store: typeof SessionSecurityStore }))
  `], { cwd: project })
  t.same(JSON.parse(cjs.stdout), { plugin: 'function', store: 'function' }, 'require()')
})

t0.test('the installed package serves its browser client', async t => {
  const { stdout } = await runClean(process.execPath, ['--input-type=module', '-e', `
    import Fastify from 'fastify'
    import fastifyCookie from '@fastify/cookie'
    import fastifySession from '@fastify/session'
    import sessionSecurity from 'fastify-session-security'
    const app = Fastify()
    await app.register(fastifyCookie)
    await app.register(fastifySession, { secret: 's'.repeat(32), cookie: { secure: 'auto' } })
    await app.register(sessionSecurity)
    const answers = {}
    for (const file of ['session-security.js', 'session-security.css']) {
      const response = await app.inject(app.sessionSecurity.staticPrefix + file)
      answers[file] = [response.statusCode, response.headers['content-type'].split(';')[0], response.body.length > 100]
    }
    await app.close()
    console.log(JSON.stringify(answers))
  `], { cwd: project })
  t.match(JSON.parse(stdout), {
    'session-security.js': [200, /^(text|application)\/javascript$/, true],
    'session-security.css': [200, 'text/css', true]
  })
})

t0.test('peers install next to current Redis clients', async t => {
  const peers: Record<string, string> = manifest.peerDependencies
  const optional: Record<string, { optional?: boolean }> = manifest.peerDependenciesMeta ?? {}
  t.same(Object.keys(peers).sort(), ['@fastify/cookie', '@fastify/session', 'fastify', 'ioredis'])
  t.notOk('connect-redis' in peers || 'connect-redis' in optional || 'connect-redis' in (manifest.dependencies ?? {}),
    'no connect-redis peer or dependency: apps on connect-redis 9/10 install without a conflict')
  t.equal(optional.ioredis?.optional, true, 'ioredis is optional')
  for (const version of ['5.2.5', '5.11.1', '6.0.0', '6.5.0']) {
    t.ok(semver.satisfies(version, peers.ioredis), `ioredis ${version} is accepted by ${peers.ioredis}`)
  }
  for (const version of ['5.2.4', '4.28.5', '7.0.0']) {
    t.notOk(semver.satisfies(version, peers.ioredis), `ioredis ${version} is refused`)
  }
  t.ok(semver.satisfies('5.0.0', peers.fastify) && !semver.satisfies('4.29.0', peers.fastify), 'fastify 5')
})

t0.test('the package root is found from lib/ (source) and from dist/lib/ (built)', async t => {
  t.equal(findPackageRoot(join(root, 'lib')), root, 'from source')
  t.equal(findPackageRoot(join(root, 'dist', 'lib')), root, 'built')
})
