// mesh-proxy as a process: static configuration file, readiness, and SIGTERM draining (the
// request in flight finishes, new connections are refused, exit code 0).
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { call, cluster, endpoints, gatewayConfig, startUpstream } from './testdata/harness.ts'

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url))

interface Started {
  child: ChildProcess
  ports: { admin: number; stats: number; health: number; prometheus: number }
  listeners: Record<string, number>
  stdout: () => string
}

function startMain(args: string[]): Promise<Started> {
  const child = spawn(process.execPath, ['--conditions=@minimesh/source', MAIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout!.on('data', (d: Buffer) => {
    out += d
  })
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d
      for (const line of err.split('\n')) {
        if (!line.includes('mesh-proxy started')) continue
        const o = JSON.parse(line) as { ports: Started['ports']; listeners: Record<string, number> }
        resolve({ child, ports: o.ports, listeners: o.listeners, stdout: () => out })
        return
      }
    })
    child.once('exit', (code) => reject(new Error(`mesh-proxy exited ${code}: ${err}`)))
  })
}

describe('mesh-proxy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mesh-proxy-'))
  const children: ChildProcess[] = []
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  })

  it('fails clearly without configuration', async () => {
    await expect(startMain(['sidecar'])).rejects.toThrow(/give --discovery-address or --config/)
  })

  it('serves a static YAML configuration and drains on SIGTERM', async () => {
    const up = await startUpstream('app', (req, res) => {
      const delay = req.url === '/slow' ? 700 : 0
      setTimeout(() => res.end(`done ${req.url}`), delay)
    })
    const file = join(dir, 'config.yaml')
    writeFileSync(
      file,
      stringify(
        gatewayConfig(
          [{ match: {}, route: { clusters: [{ name: 'c', weight: 1 }] } }],
          [cluster('c')],
          [endpoints('c', [up])],
        ),
      ),
    )
    const p = await startMain([
      'router',
      '--config',
      file,
      '--admin-port',
      '0',
      '--stats-port',
      '0',
      '--health-port',
      '0',
      '--prom-port',
      '0',
      '--port-map',
      '8080=0',
      '--bind-address',
      '127.0.0.1',
      '--drain-seconds',
      '3',
    ])
    children.push(p.child)
    const port = p.listeners['0.0.0.0_8080']!
    expect((await fetch(`http://127.0.0.1:${p.ports.health}/healthz/ready`)).status).toBe(200)
    expect((await fetch(`http://127.0.0.1:${p.ports.prometheus}/stats/prometheus`)).status).toBe(200)
    // It relaunched itself (same pid) with its semi-space flag and malloc arena limit.
    expect(readFileSync(`/proc/${p.child.pid}/cmdline`, 'utf8').split('\0')).toContain(
      '--max-semi-space-size=2',
    )
    expect(readFileSync(`/proc/${p.child.pid}/environ`, 'utf8').split('\0')).toContain('MALLOC_ARENA_MAX=2')
    expect((await call(port, '/fast')).text).toBe('done /fast')
    const slow = call(port, '/slow')
    await new Promise((r) => setTimeout(r, 150))
    const exited = new Promise<number | null>((r) => p.child.once('exit', (code) => r(code)))
    p.child.kill('SIGTERM')
    await new Promise((r) => setTimeout(r, 150))
    // No new connections once draining.
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1')
      s.once('connect', () => {
        s.destroy()
        resolve(false)
      })
      s.once('error', () => resolve(true))
    })
    expect(refused).toBe(true)
    const r = await slow
    expect(r.status).toBe(200)
    expect(r.text).toBe('done /slow')
    expect(await exited).toBe(0)
    const log = p
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { path: string; response_code: number })
    expect(log.map((e) => [e.path, e.response_code])).toEqual([
      ['/fast', 200],
      ['/slow', 200],
    ])
    await up.close()
  })
})
