// The package as a publisher packs it and as a user installs it, shared by the pack test and the
// type tests.
//
// packCleanCopy: `npm pack` of a copy of the working tree without dist/ (what a clean clone has),
// with lifecycle scripts, so the prepack build is what makes dist/. Packing the repository itself
// would race with other test files that read or build its dist/.
//
// installTarball: a project folder whose node_modules holds the extracted tarball next to links to
// the repository's own node_modules entries (the peers and dependencies, no network). Consumers
// compile with `preserveSymlinks`, so a package hidden from that folder stays hidden even where
// the real files sit next to it in the repository.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cp, mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/**
 * Runs a command without the NODE_OPTIONS that tap gives child processes: its loaders would
 * instrument the tools (tsc, npm) and make TypeScript 7's ESM `bin/tsc` fail to load
 * (ERR_REQUIRE_CYCLE_MODULE). A non-zero exit rejects, with `stdout` and `stderr` on the error.
 */
export function runClean (command: string, args: string[], options: { cwd: string, env?: NodeJS.ProcessEnv }): Promise<{ stdout: string, stderr: string }> {
  return run('env', ['-u', 'NODE_OPTIONS', command, ...args], { maxBuffer: 16 * 1024 * 1024, ...options })
}

export const root = resolve(import.meta.dirname, '..', '..')
export const repoModules = join(root, 'node_modules')

/** Files a clean clone would have: tracked and untracked-but-not-ignored, as they are now. */
async function workingTreeFiles (): Promise<string[]> {
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, maxBuffer: 16 * 1024 * 1024 })
  return [...new Set(stdout.split('\0'))].filter(file => file !== '' && existsSync(join(root, file)))
}

export interface Packed {
  /** Path of the .tgz. */
  tarball: string
  /** Paths inside the tarball, as npm lists them (`dist/index.js`, `package.json`, ...). */
  files: string[]
}

/** Packs a clean copy of the working tree into the folder `destination`. */
export async function packCleanCopy (destination: string): Promise<Packed> {
  const copy = await mkdtemp(join(tmpdir(), 'fss-clean-copy-'))
  try {
    for (const file of await workingTreeFiles()) {
      await mkdir(dirname(join(copy, file)), { recursive: true })
      await cp(join(root, file), join(copy, file), { verbatimSymlinks: true })
    }
    await symlink(repoModules, join(copy, 'node_modules'), 'dir')
    const { stdout } = await runClean('npm', ['pack', '--json', '--pack-destination', destination], {
      cwd: copy,
      env: { ...process.env, npm_config_loglevel: 'warn', npm_config_update_notifier: 'false', npm_config_fund: 'false' }
    })
    // The build's own output may come first on stdout; npm's report is the JSON array at the end.
    const report = JSON.parse(stdout.slice(stdout.lastIndexOf('\n[\n') + 1))[0] as { filename: string, files: Array<{ path: string }> }
    return {
      tarball: join(destination, report.filename),
      files: report.files.map(entry => entry.path)
    }
  } finally {
    await rm(copy, { recursive: true, force: true })
  }
}

/**
 * Makes `project/node_modules` with the tarball extracted as `fastify-session-security` and links
 * to every entry of the repository's node_modules except those in `hide` (e.g.
 * '@types/express-session'). `alias` maps a name to another folder of the repository's
 * node_modules (e.g. { ioredis: 'ioredis-6' }).
 */
export async function installTarball (
  tarball: string,
  project: string,
  { hide = [], alias = {} }: { hide?: string[], alias?: Record<string, string> } = {}
): Promise<string> {
  const modules = join(project, 'node_modules')
  await mkdir(modules, { recursive: true })
  const link = (name: string, target: string) => symlink(join(repoModules, target), join(modules, name), 'dir')
  for (const entry of await readdir(repoModules, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name === 'fastify-session-security') continue
    if (entry.name.startsWith('@') && entry.isDirectory()) {
      await mkdir(join(modules, entry.name))
      for (const scoped of await readdir(join(repoModules, entry.name))) {
        const name = `${entry.name}/${scoped}`
        if (!hide.includes(name)) await link(name, alias[name] ?? name)
      }
    } else if (!hide.includes(entry.name)) {
      await link(entry.name, alias[entry.name] ?? entry.name)
    }
  }
  const installed = join(modules, 'fastify-session-security')
  await mkdir(installed)
  await run('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1'])
  return installed
}
