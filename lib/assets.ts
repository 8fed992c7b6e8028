// Where the browser assets and the package's version are, from source (`lib/`) or built (`dist/lib/`).
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The package root, the folder that holds `package.json`, seen from the folder of this module. */
export function findPackageRoot (moduleDir: string): string {
  const fromSource = join(moduleDir, '..')
  return existsSync(join(fromSource, 'package.json')) ? fromSource : join(moduleDir, '..', '..')
}

export const packageRoot = findPackageRoot(dirname(fileURLToPath(import.meta.url)))
/**
 * What the static route serves: the minified copies that `npm run build:client` makes from the
 * readable sources in `public/` (the package ships them in `dist/public/`).
 */
export const publicDir = join(packageRoot, 'dist', 'public')
export const version: string = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')).version

/** Versioned URLs never change content, so browsers may keep them; others revalidate by ETag. */
export function assetCacheControl (url: string | undefined): string {
  return url !== undefined && url.includes('?v=')
    ? 'public, max-age=31536000, immutable'
    : 'public, max-age=0, must-revalidate'
}
