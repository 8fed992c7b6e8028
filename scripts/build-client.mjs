#!/usr/bin/env node
// Builds the copies of the browser client that the plugin serves: public/session-security.js
// minified by terser, public/session-security.css with its comments and spare whitespace removed.
// The license banners (/*! ... */) stay. Writes to dist/public/, or to the folder given as the
// first argument. The readable sources in public/ are what to edit.
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { minify } from 'terser'

const root = resolve(import.meta.dirname, '..')
const outDir = resolve(root, process.argv[2] ?? 'dist/public')

/** @param {string} source */
async function buildJs (source) {
  const result = await minify(source, {
    ecma: 2020,
    // A classic script: its top-level IIFE's names are its own, and only window.SessionSecurity leaks on purpose.
    module: false,
    compress: { passes: 2 },
    mangle: true,
    format: { comments: /^!/ }
  })
  if (result.code === undefined) throw new Error('terser returned no code')
  return result.code + '\n'
}

/**
 * Removes comments (except /*! banners) and whitespace that CSS does not need. Only around
 * braces, semicolons and commas, and at line starts: never inside a selector, where a space is
 * the descendant combinator (`a :hover` is not `a:hover`). The stylesheet has no strings.
 * @param {string} source
 */
function buildCss (source) {
  const withoutComments = source.replace(/\/\*(?!!)[\s\S]*?\*\//g, '')
  if (/["']/.test(withoutComments)) throw new Error('build-client: the CSS minifier does not handle strings')
  return withoutComments
    .replace(/\s+/g, ' ')
    .replace(/\s*([{};,])\s*/g, '$1')
    .replace(/;}/g, '}')
    .replace(/\*\/\s*/g, '*/\n')
    .trim() + '\n'
}

await mkdir(outDir, { recursive: true })
const js = await buildJs(await readFile(resolve(root, 'public/session-security.js'), 'utf8'))
const css = buildCss(await readFile(resolve(root, 'public/session-security.css'), 'utf8'))
await writeFile(resolve(outDir, 'session-security.js'), js)
await writeFile(resolve(outDir, 'session-security.css'), css)
console.log(`build-client: ${js.length} B of JS and ${css.length} B of CSS in ${outDir}`)
