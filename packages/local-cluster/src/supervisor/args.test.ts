// The supervisor's command line: --run-dir required, --options a JSON object; anything else is
// MESH_ERR_LOCAL_INVALID naming the flag, and the real entry point exits 2 with it.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parseSupervisorArgs } from './args.ts'

describe('supervisor flags', () => {
  it('reads the run dir and the cluster options', () => {
    expect(parseSupervisorArgs(['--run-dir', '/tmp/x'])).toEqual({ runDir: '/tmp/x', options: {} })
    expect(parseSupervisorArgs(['--run-dir', 'd', '--options', '{"bridge":"mmt1"}'])).toEqual({
      runDir: 'd',
      options: { bridge: 'mmt1' },
    })
  })

  it.each([
    [[], '--run-dir is required'],
    [['--run-dir', 'd', '--options', '[1]'], '--options [1]: not a JSON object'],
    [['--run-dir', 'd', '--options', '{bridge'], '--options {bridge: not JSON: '],
    [['--run-dir', 'd', '--bridge', 'mm1'], "Unknown option '--bridge'"],
  ])('%j: %s', (argv, message) => {
    expect(() => parseSupervisorArgs(argv)).toThrow(
      expect.objectContaining({ code: 'MESH_ERR_LOCAL_INVALID', message: expect.stringContaining(message) }),
    )
  })

  it('the real entry point exits 2 naming the flag', () => {
    const main = fileURLToPath(new URL('../main.ts', import.meta.url))
    const run = spawnSync(
      process.execPath,
      ['--conditions=@minimesh/source', main, '--run-dir', '/nonexistent', '--options', 'null'],
      { encoding: 'utf8' },
    )
    expect(run.status).toBe(2)
    expect(run.stderr).toBe('minimesh-local: --options null: not a JSON object [MESH_ERR_LOCAL_INVALID]\n')
  })
})
