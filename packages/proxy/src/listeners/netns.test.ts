// The real capture path: a network namespace with an iptables REDIRECT of a service address to
// the outbound listener, mesh-proxy running in the namespace with the native SO_ORIGINAL_DST
// addon, and a client that only knows the service address.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ORIGINAL_DST_ADDON_PATH } from '../native/original-dst.ts'
import { sidecarConfig } from '../testdata/sidecar.ts'

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url))
const CLIENT = fileURLToPath(new URL('../testdata/netns-client.ts', import.meta.url))
const APP = fileURLToPath(new URL('../testdata/netns-app.ts', import.meta.url))
const SERVICE_IP = '198.18.99.20'
const POD_IP = '198.18.99.10'

function has(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

function whySkip(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux'
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, iptables)'
  for (const bin of ['ip', 'iptables']) if (!has(bin)) return `${bin} is not installed`
  if (!existsSync(ORIGINAL_DST_ADDON_PATH)) return 'the SO_ORIGINAL_DST addon is not built (make native)'
  return undefined
}

const skip = whySkip()

describe.skipIf(skip !== undefined)(
  `mesh-proxy in a netns with iptables REDIRECT${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    const ns = `mm-proxy-${process.pid}`
    const children: ChildProcess[] = []
    const inNs = (args: string[]) => execFileSync('ip', ['netns', 'exec', ns, ...args], { stdio: 'ignore' })

    function spawnInNs(args: string[]): ChildProcess {
      const child = spawn(
        'ip',
        ['netns', 'exec', ns, process.execPath, '--conditions=@minimesh/source', ...args],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      )
      children.push(child)
      return child
    }

    function waitFor(child: ChildProcess, stream: 'stdout' | 'stderr', text: string): Promise<void> {
      return new Promise((resolve, reject) => {
        let seen = ''
        child[stream]!.on('data', (d: Buffer) => {
          seen += d
          if (seen.includes(text)) resolve()
        })
        child.once('exit', (code) => reject(new Error(`exited ${code} before "${text}": ${seen}`)))
      })
    }

    beforeAll(async () => {
      execFileSync('ip', ['netns', 'add', ns])
      inNs(['ip', 'link', 'set', 'lo', 'up'])
      // The pod address, with its /24 routed locally (a route must exist for the service address).
      inNs(['ip', 'addr', 'add', `${POD_IP}/24`, 'dev', 'lo'])
      // Connections to the service address go to the outbound listener (as mesh-init sets up).
      inNs([
        'iptables',
        '-t',
        'nat',
        '-A',
        'OUTPUT',
        '-p',
        'tcp',
        '-d',
        SERVICE_IP,
        '-j',
        'REDIRECT',
        '--to-ports',
        '15001',
      ])
      const app = spawnInNs([APP, '19080'])
      await waitFor(app, 'stdout', 'ready')
      const dir = mkdtempSync(join(tmpdir(), 'mm-proxy-netns-'))
      const cfg = sidecarConfig({ reviews: [{ address: '127.0.0.1', port: 19080 }], db: 1, app: 19080 })
      // The service's virtual host answers to the real service address here.
      cfg.routes![0]!.virtualHosts[0]!.domains.push(SERVICE_IP, `${SERVICE_IP}:9080`)
      writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg))
      const proxy = spawnInNs([MAIN, 'sidecar', '--config', join(dir, 'config.json'), '--access-log', 'off'])
      await waitFor(proxy, 'stderr', 'mesh-proxy started')
    })

    afterAll(() => {
      for (const c of children) c.kill('SIGKILL')
      try {
        execFileSync('ip', ['netns', 'del', ns])
      } catch {
        // already gone
      }
    })

    it('routes a redirected connection by its original destination', async () => {
      const client = spawnInNs([CLIENT, `http://${SERVICE_IP}:9080/reviews/7`, 'reviews:9080'])
      const line = await new Promise<string>((resolve) => {
        let out = ''
        client.stdout!.on('data', (d: Buffer) => {
          out += d
        })
        client.once('exit', () => resolve(out.trim()))
      })
      const r = JSON.parse(line) as { status: number; body: string }
      expect(r.status).toBe(200)
      const body = JSON.parse(r.body) as { app: string; url: string; headers: Record<string, string> }
      expect(body.app).toBe('reviews')
      expect(body.url).toBe('/reviews/7')
      // It went through the proxy: peer metadata and a request id were added.
      expect(body.headers['x-minimesh-peer']).toBeDefined()
      expect(body.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
    })
  },
)
