// The browser client's budget: what the plugin serves (the minified copies in dist/public/), JS
// and CSS together, at most 3,584 bytes gzip -9 (the sum of each file's own gzip size), measured
// by the same script as `npm run size`. The served copies must be the ones that the current
// sources build (the script from public/client.js and public/session-security.js, the stylesheet
// from public/session-security.css), and the check must fail when they are missing or too big.
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { test } from 'tap'
import { publicDir } from '../lib/assets.js'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '..')
const BUDGET = 3584
const FILES = ['session-security.js', 'session-security.css']

test(`the served JS and CSS fit in ${BUDGET} bytes gzipped`, async t => {
  const { stdout } = await run(process.execPath, [resolve(root, 'scripts/size.mjs')])
  t.comment(stdout.trim())
  const total = Number(/^total\s+(\d+) B gzip -9/m.exec(stdout)?.[1])
  t.ok(total > 1000, `measured ${total} B`)
  t.ok(total <= BUDGET, `${total} B <= ${BUDGET} B`)
})

test('the plugin serves the copies that the current sources build', async t => {
  t.equal(publicDir, join(root, 'dist', 'public'), 'the static route\'s folder is the build\'s')
  const dir = await mkdtemp(join(tmpdir(), 'fss-client-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await run(process.execPath, [resolve(root, 'scripts/build-client.mjs'), dir])
  const sources: Record<string, string[]> = {
    'session-security.js': ['client.js', 'session-security.js'],
    'session-security.css': ['session-security.css']
  }
  for (const file of FILES) {
    const [fresh, served] = await Promise.all([readFile(join(dir, 'public', file), 'utf8'), readFile(join(publicDir, file), 'utf8')])
    t.equal(served, fresh, `dist/public/${file} is up to date (npm run build:client)`)
    t.match(served, /^\/\*! fastify-session-security \| MIT License/, `${file} keeps its license banner`)
    t.equal(served.match(/\/\*!/g)?.length, 1, `${file} has one banner`)
    const source = (await Promise.all(sources[file]!.map(name => readFile(join(root, 'public', name), 'utf8')))).join('')
    t.ok(served.length < source.length * 0.8, `${file} is minified: ${served.length} B from ${source.length} B (public/${sources[file]!.join(' and public/')})`)
  }
})

test('the size check fails when the built copies are missing or over budget', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'fss-size-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await mkdir(join(dir, 'scripts'))
  await copyFile(join(root, 'scripts/size.mjs'), join(dir, 'scripts/size.mjs'))
  const size = (): Promise<unknown> => run(process.execPath, [join(dir, 'scripts/size.mjs')])

  await t.rejects(size(), { code: 1, stderr: /missing.*build:client/ }, 'missing: fails')
  await mkdir(join(dir, 'dist/public'), { recursive: true })
  // Random bytes do not compress: 2 KB each, 4 KB together.
  for (const file of FILES) await writeFile(join(dir, 'dist/public', file), randomBytes(2048))
  await t.rejects(size(), { code: 1, stderr: /over budget/ }, 'over budget: fails')
  for (const file of FILES) await writeFile(join(dir, 'dist/public', file), 'x'.repeat(2048))
  await t.resolves(size(), 'within budget: passes')
})
