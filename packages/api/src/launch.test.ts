import { describe, expect, it } from 'vitest'
import { type LaunchSettings, missingSettings } from './launch.ts'

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
})
