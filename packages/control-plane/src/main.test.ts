import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'meshd-main-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function run(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): { child: ChildProcess; done: Promise<{ code: number | null; out: string; err: string }> } {
  const child = spawn(process.execPath, ['--conditions=@minimesh/source', MAIN, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (err += d))
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, out, err })),
  )
  return { child, done }
}
const local = [
  '--grpc-address',
  '127.0.0.1:0',
  '--secure-grpc-address',
  '127.0.0.1:0',
  '--monitoring-address',
  '127.0.0.1:0',
  '--webhook-address',
  '127.0.0.1:0',
]

describe('meshd binary', () => {
  it('says which port is taken', async () => {
    const taken: Server = createServer()
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r))
    const port = (taken.address() as { port: number }).port
    const { code, err } = await run([
      '--config-dir',
      dir,
      ...local,
      '--monitoring-address',
      `127.0.0.1:${port}`,
    ]).done
    taken.close()
    expect(code).toBe(1)
    expect(err).toContain(
      `cannot listen for monitoring on 127.0.0.1:${port}: address already in use [MESH_ERR_MESHD_PORT_IN_USE]`,
    )
  })

  it('says there is no Kubernetes configuration', async () => {
    const env = { PATH: process.env.PATH, HOME: join(dir, 'no-home') }
    const { code, err } = await run(local, env).done
    expect(code).toBe(1)
    expect(err).toMatch(
      /no Kubernetes configuration: .*KUBECONFIG.*--config-dir.*\[MESH_ERR_MESHD_KUBECONFIG\]/,
    )
  })

  it('says the config directory does not exist', async () => {
    const { code, err } = await run(['--config-dir', join(dir, 'missing'), ...local]).done
    expect(code).toBe(1)
    expect(err).toMatch(/config directory .*missing does not exist \[MESH_ERR_MESHD_CONFIG_DIR\]/)
  })

  it('rejects unknown flags with usage', async () => {
    const { code, err } = await run(['--nope']).done
    expect(code).toBe(2)
    expect(err).toMatch(/Unknown option '--nope'[\s\S]*Usage: meshd/)
  })

  it('rejects a bad flag value naming the flag, with usage', async () => {
    const { code, err } = await run(['--config-dir', dir, '--workload-cert-ttl', 'abc']).done
    expect(code).toBe(2)
    expect(err).toMatch(
      /^meshd: --workload-cert-ttl abc: not a duration \(e\.g\. 300s, 5m, 1h30m, 1500ms\) \[MESH_ERR_MESHD_BAD_FLAG\]\n\nUsage: meshd/,
    )
  })

  it('stops cleanly on SIGTERM', async () => {
    const { child, done } = run(['--config-dir', dir, ...local])
    let out = ''
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`meshd did not start: ${out}`)), 10_000)
      child.stdout!.on('data', (d) => {
        out += d
        if (out.includes('"meshd listening"')) {
          clearTimeout(t)
          resolve()
        }
      })
    })
    const listening = JSON.parse(out.split('\n').find((l) => l.includes('"meshd listening"'))!) as {
      monitoring: string
    }
    expect((await fetch(`http://${listening.monitoring}/healthz/ready`)).status).toBe(200)
    // It relaunched itself (same pid) with its V8 flag and malloc settings.
    const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0')
    expect(cmdline).toContain('--max-semi-space-size=8')
    const environ = readFileSync(`/proc/${child.pid}/environ`, 'utf8').split('\0')
    expect(environ).toContain('MALLOC_MMAP_THRESHOLD_=65536')
    const t0 = Date.now()
    child.kill('SIGTERM')
    const { code, out: all } = await done
    expect(code).toBe(0)
    expect(Date.now() - t0).toBeLessThan(5000)
    expect(all).toContain('meshd: stopped')
  })
})
