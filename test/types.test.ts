// The declarations as users compile them. The package is packed as a publisher packs it, installed
// into a project, and test/types/consumer/ (what must and must not compile, as `@ts-expect-error`
// lines: an unused one is an error) is compiled with the README's ```ts blocks under `strict` and
// `skipLibCheck: false`, for each module resolution (node16, nodenext, bundler), each TypeScript
// (5.9 and 7) and each set of neighbours (ioredis 5 or 6, with or without @types/express-session).
// Then attw checks the tarball as an ESM-only package. `npm run test:types` runs this file alone.
import { existsSync } from 'node:fs'
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { installTarball, packCleanCopy, repoModules, root, runClean } from './types/pack.js'

interface Outcome { ok: boolean, output: string }

/** Runs a Node script; a non-zero exit is an outcome, not an exception. */
async function runNode (args: string[], cwd: string): Promise<Outcome> {
  try {
    const { stdout, stderr } = await runClean(process.execPath, args, { cwd })
    return { ok: true, output: stdout + stderr }
  } catch (err) {
    const { stdout = '', stderr = '', message } = err as { stdout?: string, stderr?: string, message: string }
    return { ok: false, output: stdout + stderr || message }
  }
}

/** The ```ts blocks of a Markdown text, with the line of their first line of code. */
function typescriptBlocks (markdown: string): Array<{ line: number, code: string }> {
  const lines = markdown.split('\n')
  const blocks: Array<{ line: number, code: string }> = []
  let previous = ''
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(`{3,})(\S*)\s*$/.exec(lines[i] ?? '')
    if (fence === null) {
      if ((lines[i] ?? '').trim() !== '') previous = lines[i]!.trim()
      continue
    }
    const end = lines.findIndex((text, j) => j > i && text.startsWith(fence[1]!) && text.trim() === fence[1])
    const closing = end === -1 ? lines.length : end
    if (fence[2] === 'ts' && !previous.startsWith('<!-- not compiled:')) {
      blocks.push({ line: i + 2, code: lines.slice(i + 1, closing).join('\n') })
    }
    previous = ''
    i = closing
  }
  return blocks
}

/** Points a diagnostic in an extracted README block back at README.md. */
function readmeLines (output: string): string {
  return output.replace(/readme\/line-(\d+)\.ts\((\d+),(\d+)\)/g,
    (_match, start: string, line: string, column: string) => `README.md:${Number(start) + Number(line) - 1}:${column}`)
}

const typescripts = [
  { name: 'TypeScript 5.9', tsc: join(repoModules, 'typescript', 'bin', 'tsc') },
  { name: 'TypeScript 7', tsc: join(repoModules, 'typescript-7', 'bin', 'tsc') }
]
const resolutions = ['node16', 'nodenext', 'bundler']
const expressSessionTypes = existsSync(join(repoModules, '@types', 'express-session'))
// ioredis 6 changes only what the store's declarations name, so one resolution is enough for it.
interface Neighbours {
  name: string
  /** Entries of the repository's node_modules that the project does not get. */
  hide: string[]
  /** A package name mapped to another folder of the repository's node_modules. */
  alias: Record<string, string>
  resolutions: string[]
  /** The variant needs a package that is not installed: it is skipped, and says so. */
  missing?: boolean
}
const neighbours: Neighbours[] = [
  { name: 'ioredis 5, without @types/express-session', hide: ['@types/express-session'], alias: {}, resolutions },
  { name: 'ioredis 5, with @types/express-session', hide: [], alias: {}, resolutions, missing: !expressSessionTypes },
  { name: 'ioredis 6, without @types/express-session', hide: ['@types/express-session'], alias: { ioredis: 'ioredis-6' }, resolutions: ['nodenext'] }
]

const dir = await mkdtemp(join(tmpdir(), 'fss-types-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))
const packed = await packCleanCopy(dir)
const blocks = typescriptBlocks(await readFile(join(root, 'README.md'), 'utf8'))

t.test('the README has TypeScript blocks to compile', async t => {
  t.ok(blocks.length >= 4, `${blocks.length} blocks`)
})

for (const [index, setup] of neighbours.entries()) {
  const skip = setup.missing === true &&
    '@types/express-session is not installed: add it to devDependencies to check this variant'
  t.test(`a project with ${setup.name}`, { skip }, async t => {
    const project = join(dir, `project-${index}`)
    await cp(join(root, 'test', 'types', 'consumer'), project, { recursive: true })
    await mkdir(join(project, 'readme'))
    for (const block of blocks) {
      await writeFile(join(project, 'readme', `line-${block.line}.ts`), `${block.code}\n\nexport {}\n`)
    }
    await installTarball(packed.tarball, project, { hide: setup.hide, alias: setup.alias })

    for (const typescript of typescripts) {
      // The resolutions of one TypeScript side by side, to use every core.
      const outcomes = await Promise.all(setup.resolutions.map(resolution =>
        runNode([typescript.tsc, '-p', `tsconfig.${resolution}.json`, '--pretty', 'false'], project)))
      for (const [i, resolution] of setup.resolutions.entries()) {
        const { ok, output } = outcomes[i]!
        t.ok(ok, `${typescript.name}, ${resolution}: the consumer files and the README compile`, { diagnostic: !ok, output: readmeLines(output) })
      }
    }
  })
}

t.test('attw finds no problem for an ESM-only package', async t => {
  const attw = join(repoModules, '@arethetypeswrong', 'cli', 'dist', 'index.js')
  const { ok, output } = await runNode([attw, packed.tarball, '--profile', 'esm-only', '--format', 'ascii', '--no-color', '--no-emoji'], dir)
  t.ok(ok, 'attw --profile esm-only', { diagnostic: !ok, output })
})
