// meshctl local's answers to input mistakes, before any cluster is asked: an empty file, a missing
// file, a subcommand's own help, a bad flag.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from '../run.ts'

const dir = mkdtempSync(join(tmpdir(), 'mm-cli-input-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function run(args: string[], stdin = '') {
  const out: string[] = []
  const err: string[] = []
  const code = await runCli(args, {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    stdin: Readable.from([stdin]),
    cwd: dir,
  })
  return { code, out: out.join(''), err: err.join('') }
}

// No cluster runs under this run dir: anything that got as far as asking one would say so.
const runDir = ['--run-dir', join(dir, 'no-cluster')]

describe('meshctl local input errors', () => {
  it('an empty file is an error naming it, not a silent success', async () => {
    writeFileSync(join(dir, 'empty.yaml'), '# nothing here\n---\n')
    const r = await run(['local', 'apply', '-f', 'empty.yaml', ...runDir])
    expect(r.code).toBe(1)
    expect(r.err).toMatch(
      /^meshctl local: .*empty\.yaml: no objects to apply \(the file is empty or holds only comments\) \[MESH_ERR_CLI_INPUT\]\n$/,
    )
    const stdin = await run(['local', 'apply', '-f', '-', ...runDir], '')
    expect(stdin.err).toMatch(/<stdin>: no objects to apply \(the input is empty/)
    mkdirSync(join(dir, 'nothing'))
    expect((await run(['local', 'apply', '-f', 'nothing', ...runDir])).err).toMatch(
      /nothing: no \.yaml, \.yml or \.json files in this directory/,
    )
  })

  it('a missing file is named, without the whole usage after it', async () => {
    const r = await run(['local', 'apply', '-f', 'missing.yaml', ...runDir])
    expect(r.code).toBe(1)
    expect(r.err).toBe(
      'meshctl local: cannot read missing.yaml: no such file or directory [MESH_ERR_CLI_INPUT]\n',
    )
  })

  it('local SUB --help prints that subcommand only; a bad flag its usage line only', async () => {
    const help = await run(['local', 'apply', '--help'])
    expect(help.code).toBe(0)
    expect(help.out).toMatch(
      /^create or update objects .*\n\nUsage: meshctl local apply -f FILE\|DIR\|- \[-n NS\] \[--wait\]/,
    )
    expect(help.out).toMatch(/--wait: then returns only once every proxy has ACKed/)
    expect(help.out).not.toMatch(/port-forward|Subcommands/)
    const all = await run(['local', '--help'])
    expect(all.out).toMatch(/Subcommands:[\s\S]*apply -f[\s\S]*port-forward POD/)
    const bad = await run(['local', 'apply', '--frob'])
    expect(bad.code).toBe(2)
    expect(bad.err).toMatch(
      /^meshctl local: Unknown option '--frob'.*\nUsage: meshctl local apply -f FILE\|DIR\|- \[-n NS\] \[--wait\] \[--timeout 60s\]\n$/,
    )
    // A command's own -h after `--` belongs to the command run in the pod, not to meshctl.
    const exec = await run(['local', 'exec', 'p', ...runDir, '--', 'ls', '-h'])
    expect(exec.err).toMatch(/no local cluster is running/)
  })

  it('wait --for takes ready or sync', async () => {
    const r = await run(['local', 'wait', '--for=frob', ...runDir])
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/--for frob: must be one of ready, sync/)
  })
})
