#!/usr/bin/env node
// Prints the gzip -9 size of each served browser asset and their sum, and fails over the budget.
// The budget is the sum of each file's own gzip size, as a browser downloads them (DESIGN.md 7).
import { readFileSync } from 'node:fs'
import { gzipSync, constants } from 'node:zlib'

const BUDGET = 4096
const files = ['public/session-security.js', 'public/session-security.css']
let total = 0
for (const file of files) {
  const source = readFileSync(new URL(`../${file}`, import.meta.url))
  const gzipped = gzipSync(source, { level: constants.Z_BEST_COMPRESSION }).length
  total += gzipped
  console.log(`${file.padEnd(30)} ${String(source.length).padStart(6)} B  ${String(gzipped).padStart(5)} B gzip -9`)
}
console.log(`${'total'.padEnd(30)} ${''.padStart(8)}  ${String(total).padStart(5)} B gzip -9 (budget ${BUDGET} B)`)
if (total > BUDGET) {
  console.error(`size: over budget by ${total - BUDGET} B`)
  process.exitCode = 1
}
