#!/usr/bin/env node
// Prints the gzip -9 size of each browser asset as the plugin serves it (the minified copies in
// dist/public/ that `npm run build:client` makes) and their sum, and fails over the budget or when
// a copy is missing. The budget is the sum of each file's own gzip size, as a browser downloads
// them one by one.
import { readFileSync } from 'node:fs'
import { gzipSync, constants } from 'node:zlib'

const BUDGET = 3584
const files = ['dist/public/session-security.js', 'dist/public/session-security.css']
let total = 0
for (const file of files) {
  let served
  try {
    served = readFileSync(new URL(`../${file}`, import.meta.url))
  } catch (err) {
    console.error(`size: ${file} is missing (${err.code}); run npm run build:client`)
    process.exit(1)
  }
  const gzipped = gzipSync(served, { level: constants.Z_BEST_COMPRESSION }).length
  total += gzipped
  console.log(`${file.padEnd(35)} ${String(served.length).padStart(6)} B  ${String(gzipped).padStart(5)} B gzip -9`)
}
console.log(`${'total'.padEnd(35)} ${''.padStart(8)}  ${String(total).padStart(5)} B gzip -9 (budget ${BUDGET} B)`)
if (total > BUDGET) {
  console.error(`size: over budget by ${total - BUDGET} B`)
  process.exitCode = 1
}
