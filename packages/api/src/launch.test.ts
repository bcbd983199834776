import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { type LaunchSettings, missingSettings } from './launch.ts'

const CHILD = fileURLToPath(new URL('./testdata/relaunched.ts', import.meta.url))
const run = (env: Record<string, string>) =>
  JSON.parse(
    execFileSync(process.execPath, [CHILD], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' }),
  ) as { pid: number; execArgv: string[]; variable: string | null; mark: string | null }

const settings: LaunchSettings = {
  flags: ['--max-semi-space-size=8', '--v8-pool-size=2'],
  env: { MALLOC_MMAP_THRESHOLD_: '65536' },
  override: 'TEST_NODE_FLAGS',
}

describe('start-up settings', () => {
  it('adds the flags and environment not already there', () => {
    expect(missingSettings(settings, { execArgv: [], env: {} })).toEqual({
      flags: ['--max-semi-space-size=8', '--v8-pool-size=2'],
      env: { MALLOC_MMAP_THRESHOLD_: '65536' },
    })
  })

  it('leaves alone a flag given on the command line or in NODE_OPTIONS (by name), and a set variable', () => {
    expect(
      missingSettings(settings, {
        execArgv: ['--max-semi-space-size=32'],
        env: { NODE_OPTIONS: '--v8-pool-size=4', MALLOC_MMAP_THRESHOLD_: '1' },
      }),
    ).toEqual({ flags: [], env: {} })
  })

  it('takes the flags from the override variable, empty meaning none', () => {
    expect(missingSettings(settings, { execArgv: [], env: { TEST_NODE_FLAGS: '--jitless' } }).flags).toEqual([
      '--jitless',
    ])
    expect(missingSettings(settings, { execArgv: [], env: { TEST_NODE_FLAGS: '' } }).flags).toEqual([])
  })

  it('relaunches a real process once with what was missing, and clears its mark for the processes it starts', () => {
    const out = run({})
    expect(out.execArgv).toContain('--max-semi-space-size=2')
    expect(out.variable).toBe('set')
    expect(out.mark).toBeNull()
    // Nothing missing: no relaunch, the process runs as started.
    const as = run({ LAUNCH_TEST_FLAGS: '', LAUNCH_TEST_VAR: 'given' })
    expect(as.execArgv).toEqual([])
    expect(as.variable).toBe('given')
  })
})
