// Golden files: compared in a normal run, rewritten with UPDATE_GOLDEN=1. A golden that no test
// wrote any more is stale and fails (checkNoStaleGoldens).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect } from 'vitest'

const GOLDEN_DIR = fileURLToPath(new URL('./golden/', import.meta.url))
const UPDATE = process.env.UPDATE_GOLDEN === '1'
const seen = new Set<string>()

export function expectGolden(name: string, actual: string): void {
  seen.add(name)
  const file = join(GOLDEN_DIR, name)
  if (UPDATE) {
    mkdirSync(GOLDEN_DIR, { recursive: true })
    writeFileSync(file, actual)
    return
  }
  if (!existsSync(file)) throw new Error(`golden ${name} is missing; run with UPDATE_GOLDEN=1 to create it`)
  expect
    .soft(actual, `golden ${name} is stale; run with UPDATE_GOLDEN=1 and review the diff`)
    .toBe(readFileSync(file, 'utf8'))
}

/** Call after every golden of the directory was checked: files no test produced are stale. */
export function checkNoStaleGoldens(): void {
  const extra = readdirSync(GOLDEN_DIR).filter((f) => !seen.has(f))
  if (UPDATE) {
    for (const f of extra) rmSync(join(GOLDEN_DIR, f))
    return
  }
  expect(extra, 'golden files no test produces (stale); run with UPDATE_GOLDEN=1').toEqual([])
}
