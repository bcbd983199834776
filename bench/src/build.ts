// The compiled mesh-proxy the benchmarks run (as production images run it), rebuilt first when
// missing or older than its sources.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** The build mesh-proxy runs from, and the sources it is made of (a newer source means a stale build). */
const BUILT = join(ROOT, 'packages/proxy/dist/main.js')
const SOURCES = ['packages/proxy/src', 'packages/api/src'].map((d) => join(ROOT, d))

function newestMtime(dirPath: string): number {
  let newest = 0
  for (const e of readdirSync(dirPath, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !e.name.endsWith('.ts') || e.name.endsWith('.test.ts')) continue
    newest = Math.max(newest, statSync(join(e.parentPath, e.name)).mtimeMs)
  }
  return newest
}

/** Builds @minimesh/api and @minimesh/proxy when dist/ is missing or older than a source file. */
export function ensureBuilt(): string {
  const stale = !existsSync(BUILT) || Math.max(...SOURCES.map(newestMtime)) > statSync(BUILT).mtimeMs
  if (!stale) return 'dist (up to date)'
  console.error('building @minimesh/api and @minimesh/proxy…')
  execFileSync('pnpm', ['--filter', '@minimesh/api', '--filter', '@minimesh/proxy', 'build'], {
    cwd: ROOT,
    stdio: 'inherit',
    // No source condition (it would load TypeScript sources instead).
    env: { ...process.env, NODE_OPTIONS: '' },
  })
  return 'dist (rebuilt)'
}
