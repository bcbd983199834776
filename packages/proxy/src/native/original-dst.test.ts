import { execFileSync, spawn } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { createRequire } from 'node:module'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  loadOriginalDstAddon,
  ORIGINAL_DST_ADDON_PATH,
  type OriginalDst,
  originalDst,
  ProxyNativeError,
} from './original-dst.ts'

const probe = fileURLToPath(new URL('./testdata/original-dst-probe.ts', import.meta.url))

function has(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

const HOST_BINS = ['ip', 'iptables', 'ip6tables']

function whyNoNetns(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux'
  if (process.getuid?.() !== 0) return 'needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN)'
  if (!HOST_BINS.every(has)) {
    // Root without iptables/iproute2: install them (apt-get, only what is missing), as `make test` does.
    const script = fileURLToPath(new URL('../../../../scripts/ensure-host-deps.sh', import.meta.url))
    try {
      execFileSync('bash', [script], { stdio: 'inherit' })
    } catch (error) {
      if (process.env.CI) throw error // CI is root: a root test never skips there
    }
  }
  const missing = HOST_BINS.find((bin) => !has(bin))
  return missing && `${missing} is not installed (scripts/ensure-host-deps.sh installs it)`
}

/** Accepts one connection on a fresh loopback listener in this process and hands back the server side. */
async function acceptedPair(
  host: string,
): Promise<{ server: net.Server; accepted: net.Socket; client: net.Socket }> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  const { port } = server.address() as net.AddressInfo
  const acceptedP = new Promise<net.Socket>((resolve) => server.once('connection', resolve))
  const client = net.connect({ host, port })
  await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('error', reject))
  return { server, accepted: await acceptedP, client }
}

describe('original_dst addon', () => {
  it('is built and exports getOriginalDst', () => {
    const addon = loadOriginalDstAddon()
    expect(typeof addon.getOriginalDst).toBe('function')
    expect(ORIGINAL_DST_ADDON_PATH).toMatch(/packages\/proxy\/build\/Release\/original_dst\.node$/)
  })

  it('says MESH_ERR_PROXY_NATIVE_MISSING and `make native` when the addon file is absent', () => {
    const thrown = (() => {
      try {
        loadOriginalDstAddon('/nonexistent/minimesh/original_dst.node')
      } catch (error) {
        return error
      }
      return undefined
    })()
    expect(thrown).toBeInstanceOf(ProxyNativeError)
    expect((thrown as ProxyNativeError).code).toBe('MESH_ERR_PROXY_NATIVE_MISSING')
    expect((thrown as ProxyNativeError).message).toContain('make native')
  })

  it('rejects bad arguments and non-socket descriptors with errno codes', () => {
    const addon = createRequire(import.meta.url)(ORIGINAL_DST_ADDON_PATH) as {
      getOriginalDst(fd: unknown): OriginalDst
    }
    expect(() => addon.getOriginalDst('3')).toThrow(TypeError)
    expect(() => addon.getOriginalDst(-1)).toThrow(RangeError)
    const fd = openSync(fileURLToPath(import.meta.url), 'r')
    try {
      expect(() => addon.getOriginalDst(fd)).toThrow(expect.objectContaining({ code: 'ENOTSOCK' }))
    } finally {
      closeSync(fd)
    }
  })

  it('refuses a socket that has no file descriptor', () => {
    expect(() => originalDst(new net.Socket())).toThrow(
      expect.objectContaining({ code: 'MESH_ERR_PROXY_NO_FD' }),
    )
  })

  it('on a plain loopback connection reports ENOENT or the socket’s own local address, as Linux does', async () => {
    const { server, accepted, client } = await acceptedPair('127.0.0.1')
    try {
      // Without NAT the kernel answers from conntrack: no entry (conntrack not hooked in this
      // netns) → ENOENT; an entry → the connection's own, un-rewritten destination.
      let result: OriginalDst | undefined
      let error: ProxyNativeError | undefined
      try {
        result = originalDst(accepted)
      } catch (e) {
        error = e as ProxyNativeError
      }
      if (result) {
        expect(result).toEqual({ address: '127.0.0.1', port: accepted.localPort, family: 4 })
      } else {
        expect(error?.code).toBe('MESH_ERR_PROXY_ORIGINAL_DST')
        expect((error?.cause as { code?: string } | undefined)?.code).toBe('ENOENT')
        expect(error?.message).toContain('No such file or directory')
      }
    } finally {
      client.destroy()
      accepted.destroy()
      server.close()
    }
  })
})

const skipReason = whyNoNetns()

describe.skipIf(skipReason !== undefined)(
  `original_dst in a network namespace${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    const ns = `mm-odst-${process.pid}`
    const from = 17080
    const to = 17081

    function sh(cmd: string, args: string[]): string {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    }

    /** Runs the probe inside the namespace and returns its one JSON line. */
    function runProbe(...args: string[]): Promise<Record<string, unknown>> {
      return new Promise((resolve, reject) => {
        const child = spawn(
          'ip',
          ['netns', 'exec', ns, process.execPath, '--conditions=@minimesh/source', probe, ...args],
          {
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        )
        let out = ''
        let err = ''
        child.stdout.on('data', (d) => {
          out += d
        })
        child.stderr.on('data', (d) => {
          err += d
        })
        child.on('error', reject)
        child.on('close', () => {
          const line = out.trim().split('\n').pop() ?? ''
          try {
            resolve(JSON.parse(line) as Record<string, unknown>)
          } catch {
            reject(new Error(`probe printed no result: ${out} ${err}`))
          }
        })
      })
    }

    beforeAll(() => {
      sh('ip', ['netns', 'add', ns])
      sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
    })

    afterAll(() => {
      try {
        sh('ip', ['netns', 'del', ns])
      } catch {
        // already gone
      }
    })

    it('reports ENOENT when conntrack tracks nothing in the namespace', async () => {
      const result = await runProbe('127.0.0.1', '0', '127.0.0.1')
      expect(result).toMatchObject({ ok: false, code: 'MESH_ERR_PROXY_ORIGINAL_DST', causeCode: 'ENOENT' })
    })

    describe('with REDIRECT rules', () => {
      beforeAll(() => {
        for (const bin of ['iptables', 'ip6tables']) {
          sh('ip', [
            'netns',
            'exec',
            ns,
            bin,
            '-t',
            'nat',
            '-A',
            'OUTPUT',
            '-p',
            'tcp',
            '-o',
            'lo',
            '--dport',
            String(from),
            '-j',
            'REDIRECT',
            '--to-ports',
            String(to),
          ])
        }
      })

      it('recovers the IPv4 port the client dialled, not the listener’s', async () => {
        const result = await runProbe('127.0.0.1', String(to), '127.0.0.1', String(from))
        expect(result).toEqual({
          ok: true,
          dst: { address: '127.0.0.1', port: from, family: 4 },
          local: { address: '127.0.0.1', port: to },
        })
      })

      it('recovers an IPv4 destination through a dual-stack (::) listener', async () => {
        const result = await runProbe('::', String(to), '127.0.0.1', String(from))
        expect(result).toMatchObject({
          ok: true,
          dst: { address: '127.0.0.1', port: from, family: 4 },
          local: { address: '::ffff:127.0.0.1', port: to },
        })
      })

      it('recovers an IPv6 destination (ip6tables REDIRECT)', async () => {
        const result = await runProbe('::1', String(to), '::1', String(from))
        expect(result).toEqual({
          ok: true,
          dst: { address: '::1', port: from, family: 6 },
          local: { address: '::1', port: to },
        })
      })

      it('reports a connection that was not redirected as its own local address (conntrack is on)', async () => {
        const result = await runProbe('127.0.0.1', '0', '127.0.0.1')
        expect(result.ok).toBe(true)
        const local = result.local as { address: string; port: number }
        expect(result.dst).toEqual({ address: '127.0.0.1', port: local.port, family: 4 })
        expect(local.port).not.toBe(from)
      })
    })
  },
)
