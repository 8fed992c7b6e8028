// The package as users get it: compiled by tsc, loadable with import and with require() (Node
// 20.19+ require(esm)), assets found from dist/, `files` shipping dist and public.
import { execFile } from 'node:child_process'
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { test } from 'tap'
import { findPackageRoot, packageRoot } from '../lib/assets.js'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '..')

test('the built package loads with import and require', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'fss-package-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const pkg = join(dir, 'node_modules', 'fastify-session-security')
  await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', join(pkg, 'dist')])
  await cp(join(root, 'package.json'), join(pkg, 'package.json'))
  await cp(join(root, 'public'), join(pkg, 'public'), { recursive: true })
  await symlink(join(root, 'node_modules'), join(pkg, 'node_modules'))

  const script = `
    const m = require('fastify-session-security')
    const { SessionSecurityStore } = require('fastify-session-security/store')
    const { publicDir } = require(require.resolve('fastify-session-security').replace('index.js', 'lib/assets.js'))
    console.log(JSON.stringify({ plugin: typeof m.default, name: m.default[Symbol.for('plugin-meta')].name, store: typeof SessionSecurityStore, publicDir }))
  `
  const cjs = await run(process.execPath, ['-e', script], { cwd: dir })
  const loaded = JSON.parse(cjs.stdout)
  t.same(loaded, { plugin: 'function', name: 'fastify-session-security', store: 'function', publicDir: join(pkg, 'public') }, 'require() works and assets resolve from dist/')

  const esm = await run(process.execPath, ['--input-type=module', '-e', "const m = await import('fastify-session-security'); console.log(typeof m.default, typeof m.InvalidOptionError)"], { cwd: dir })
  t.equal(esm.stdout.trim(), 'function function', 'import works')

  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root })
  const files = (JSON.parse(stdout)[0].files as Array<{ path: string }>).map(f => f.path)
  t.ok(files.includes('public/session-security.js') && files.includes('public/session-security.css'), 'public/ is shipped')
  t.notOk(files.some(f => f.startsWith('test/') || f.startsWith('lib/') || f.startsWith('benchmarks/')), 'sources and tests are not shipped')
})

test('public/ is found from lib/ (source) and from dist/lib/ (built)', async t => {
  t.equal(packageRoot, root)
  t.equal(findPackageRoot(join(root, 'lib')), root)
  t.equal(findPackageRoot(join(root, 'dist', 'lib')), root, 'dist/ has no public/ of its own')
})
