// Golden files, one way for every package: compared byte for byte in a normal run, rewritten with
// UPDATE_GOLDEN=1. A mismatch fails with a unified diff of golden → actual; a missing golden fails
// and says how to make it; a golden no test wrote any more is stale (expectNoStaleGoldens).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { unifiedDiff } from './diff.ts'

export { jsonDiff, unifiedDiff } from './diff.ts'

/** The one switch: UPDATE_GOLDEN=1 rewrites the golden files from what the tests produce. */
function updating(): boolean {
  return process.env.UPDATE_GOLDEN === '1'
}

const written = new Set<string>()

function pathOf(file: string | URL): string {
  return typeof file === 'string' ? file : fileURLToPath(file)
}

function shown(path: string): string {
  return relative(process.cwd(), path) || path
}

/** Compares `actual` with the golden file (a path or file: URL); with UPDATE_GOLDEN=1 writes it instead. */
export function expectGolden(file: string | URL, actual: string): void {
  const path = pathOf(file)
  written.add(path)
  if (updating()) {
    mkdirSync(dirname(path), { recursive: true })
    if (!existsSync(path) || readFileSync(path, 'utf8') !== actual) writeFileSync(path, actual)
    return
  }
  if (!existsSync(path))
    throw new Error(`golden file ${shown(path)} is missing: run with UPDATE_GOLDEN=1 to create it`)
  const expected = readFileSync(path, 'utf8')
  if (expected === actual) return
  throw new Error(
    `golden file ${shown(path)} is stale: run with UPDATE_GOLDEN=1 and review the change\n${unifiedDiff(expected, actual)}`,
  )
}

/**
 * Fails when `dir` holds golden files (ending in one of `extensions`) that no expectGolden call
 * of this test file produced; with UPDATE_GOLDEN=1 removes them. Call it after the goldens' tests.
 */
export function expectNoStaleGoldens(dir: string | URL, extensions: readonly string[]): void {
  const root = pathOf(dir)
  const stale = (readdirSync(root, { recursive: true, encoding: 'utf8' }) as string[])
    .map((f) => join(root, f))
    .filter((f) => extensions.some((e) => f.endsWith(e)) && !written.has(f) && statSync(f).isFile())
  if (updating()) {
    for (const f of stale) rmSync(f)
    return
  }
  if (stale.length)
    throw new Error(
      `golden files no test produces (stale): ${stale.map(shown).join(', ')}; run with UPDATE_GOLDEN=1 to remove them`,
    )
}
