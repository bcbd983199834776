import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { runCli } from './run.ts'
import { recordingIo as io } from './testdata/meshctl.ts'

describe('meshctl', () => {
  it('--help lists the commands', async () => {
    const t = io()
    expect(await runCli(['--help'], t.io)).toBe(0)
    expect(t.out.join('')).toMatch(/Commands:[\s\S]*version/)
  })
  it('unknown command exits 2 and says so', async () => {
    const t = io()
    expect(await runCli(['frobnicate'], t.io)).toBe(2)
    expect(t.err.join('')).toContain('unknown command "frobnicate"')
  })
  it('version runs as a real process', async () => {
    const main = fileURLToPath(new URL('./main.ts', import.meta.url))
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--conditions=@minimesh/source',
      main,
      'version',
    ])
    expect(stdout).toMatch(/^meshctl \d+\.\d+\.\d+ \(node \d+/)
  })
})
