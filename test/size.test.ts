// The browser client's budget: the served JavaScript and CSS together stay under 4 KB gzip -9
// (the sum of each file's own gzip size, DESIGN.md 7), measured by the same script as `npm run size`.
import { execFile } from 'node:child_process'
import { resolve } from 'node:path'
import { promisify } from 'node:util'
import { test } from 'tap'

test('the served JS and CSS fit in 4096 bytes gzipped', async t => {
  const root = resolve(import.meta.dirname, '..')
  const { stdout } = await promisify(execFile)(process.execPath, [resolve(root, 'scripts/size.mjs')])
  const total = Number(/^total\s+(\d+) B gzip -9/m.exec(stdout)?.[1])
  t.ok(total > 1000, `measured ${total} B`)
  t.ok(total <= 4096, `${total} B <= 4096 B`)
})
