#!/usr/bin/env node
// Builds the browser client from its readable sources in public/, into dist/ (or the folder given
// as the first argument):
// - public/: what the plugin serves. session-security.js is public/client.js (the client, an ES
//   module) and public/session-security.js (which starts it from its script tag) put into one
//   function, a classic script, minified by terser; session-security.css with its comments and
//   spare whitespace removed. The license banners (/*! ... */) stay.
// - client/: the ES module `fastify-session-security/client`: public/client.js as it is, and its
//   declarations, which TypeScript writes from its JSDoc.
// One source for both, so the module is the same code as the served script.
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { minify } from 'terser'
import ts from 'typescript'

const root = resolve(import.meta.dirname, '..')
export const CLIENT_SOURCE = resolve(root, 'public/client.js')
export const SCRIPT_SOURCE = resolve(root, 'public/session-security.js')
const BANNER = /^\/\*![\s\S]*?\*\/\n/

/**
 * The served script: the client module's code and the starter's, without their import and export
 * keywords, in one function. Only `export function` and `export const` declarations, and the
 * starter's one import of the client, are understood; anything else fails the build.
 * @param {string} client public/client.js
 * @param {string} starter public/session-security.js
 */
export async function buildServedScript (client, starter) {
  const banner = BANNER.exec(client)?.[0]
  if (banner === undefined) throw new Error('build-client: public/client.js has no license banner')
  const clientCode = client.replace(BANNER, '').replace(/^export (?=function |const )/gm, '')
  const starterCode = starter.replace(BANNER, '').replace(/^import \{[\w\s,]*\} from '\.\/client\.js'\n/m, '')
  for (const [name, code] of [['client.js', clientCode], ['session-security.js', starterCode]]) {
    if (/^\s*(import|export)\b/m.test(code)) throw new Error(`build-client: public/${name} has an import or export that the build does not understand`)
  }
  const result = await minify(`${banner}(function () {\n'use strict'\n${clientCode}\n${starterCode}\n})()\n`, {
    ecma: 2020,
    // A classic script: its top-level function's names are its own, and only window.SessionSecurity leaks on purpose.
    module: false,
    compress: { passes: 2 },
    mangle: true,
    format: { comments: /^!/ }
  })
  if (result.code === undefined) throw new Error('terser returned no code')
  return result.code + '\n'
}

/**
 * The module's declarations, written by TypeScript from the JSDoc of public/client.js.
 * @param {string} clientPath
 */
export function buildDeclarations (clientPath) {
  /** @type {string | undefined} */
  let declarations
  const program = ts.createProgram([clientPath], {
    allowJs: true,
    declaration: true,
    emitDeclarationOnly: true,
    strict: true,
    target: ts.ScriptTarget.ES2020,
    module: ts.ModuleKind.ES2020,
    lib: ['lib.es2020.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
    types: [],
    skipLibCheck: true
  })
  const diagnostics = ts.getPreEmitDiagnostics(program)
  if (diagnostics.length > 0) {
    throw new Error('build-client: ' + ts.formatDiagnostics(diagnostics, { getCanonicalFileName: name => name, getCurrentDirectory: () => root, getNewLine: () => '\n' }))
  }
  program.emit(undefined, (_name, text) => { declarations = text })
  if (declarations === undefined) throw new Error('build-client: TypeScript wrote no declarations')
  // TypeScript keeps the license banner as the comment of the first declaration it meets: first.
  const banner = /\/\*![\s\S]*?\*\/\n/.exec(declarations)?.[0] ?? ''
  return banner + declarations.replace(banner, '')
}

/**
 * Removes comments (except /*! banners) and whitespace that CSS does not need. Only around
 * braces, semicolons and commas, and at line starts: never inside a selector, where a space is
 * the descendant combinator (`a :hover` is not `a:hover`). The stylesheet has no strings.
 * @param {string} source
 */
export function buildCss (source) {
  const withoutComments = source.replace(/\/\*(?!!)[\s\S]*?\*\//g, '')
  if (/["']/.test(withoutComments)) throw new Error('build-client: the CSS minifier does not handle strings')
  return withoutComments
    .replace(/\s+/g, ' ')
    .replace(/\s*([{};,])\s*/g, '$1')
    .replace(/;}/g, '}')
    .replace(/\*\/\s*/g, '*/\n')
    .trim() + '\n'
}

/** @param {string} outDir */
async function build (outDir) {
  const client = await readFile(CLIENT_SOURCE, 'utf8')
  const js = await buildServedScript(client, await readFile(SCRIPT_SOURCE, 'utf8'))
  const css = buildCss(await readFile(resolve(root, 'public/session-security.css'), 'utf8'))
  const declarations = buildDeclarations(CLIENT_SOURCE)
  await mkdir(resolve(outDir, 'public'), { recursive: true })
  await mkdir(resolve(outDir, 'client'), { recursive: true })
  await writeFile(resolve(outDir, 'public/session-security.js'), js)
  await writeFile(resolve(outDir, 'public/session-security.css'), css)
  await writeFile(resolve(outDir, 'client/index.js'), client)
  await writeFile(resolve(outDir, 'client/index.d.ts'), declarations)
  console.log(`build-client: ${js.length} B of JS and ${css.length} B of CSS in ${resolve(outDir, 'public')}; the module in ${resolve(outDir, 'client')}`)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await build(resolve(root, process.argv[2] ?? 'dist'))
}
