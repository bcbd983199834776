// The real thing: two network namespaces joined by a veth pair, mesh-init's rules applied in the
// "app pod" one, and real sockets showing what is captured and what is not.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { normalizeSave } from './restore-script.ts'

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url))
const mainTs = fileURLToPath(new URL('./main.ts', import.meta.url))
const serverTs = fileURLToPath(new URL('./testdata/netns-server.ts', import.meta.url))
const clientTs = fileURLToPath(new URL('./testdata/netns-client.ts', import.meta.url))
const originalDstModule = here('../../proxy/src/native/original-dst.ts')
const addon = here('../../proxy/build/Release/original_dst.node')

function has(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

const HOST_BINS = ['ip', 'iptables', 'ip6tables', 'iptables-save']

function whySkip(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux'
  if (process.getuid?.() !== 0) return 'needs root to make network namespaces and change iptables'
  if (!HOST_BINS.every(has)) {
    // Root without iptables/iproute2: install them (apt-get, only what is missing), as `make test` does.
    try {
      execFileSync('bash', [here('../../../scripts/ensure-host-deps.sh')], { stdio: 'inherit' })
    } catch (error) {
      if (process.env.CI) throw error // CI is root: a root test never skips there
    }
  }
  const missing = HOST_BINS.find((bin) => !has(bin))
  return missing && `${missing} is not installed (run scripts/ensure-host-deps.sh)`
}

const skip = whySkip()
const APP = `198.18.200.2`
const PEER = `198.18.200.3`
const PEER_EXCLUDED = `198.18.200.4`
const APP6 = '2001:2:0:c8::2'
const PEER6 = '2001:2:0:c8::3'

interface Answer {
  by?: string
  localPort?: number
  dst?: { address: string; port: number; family: number }
  error?: string
}

describe.skipIf(skip !== undefined)(
  `mesh-init in a network namespace${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    const app = `mm-init-${process.pid}-app`
    const peer = `mm-init-${process.pid}-peer`
    const servers: ChildProcess[] = []
    let natBefore = ''

    const run = (...argv: string[]) => execFileSync(argv[0] as string, argv.slice(1), { encoding: 'utf8' })
    const inNs = (ns: string, ...argv: string[]) => run('ip', 'netns', 'exec', ns, ...argv)
    const meshInit = (...flags: string[]) => inNs(app, process.execPath, mainTs, ...flags)
    const natState = () => normalizeSave(inNs(app, 'iptables-save', '-t', 'nat'))

    function startServer(ns: string, listeners: object[]): Promise<void> {
      const child = spawn(
        'ip',
        ['netns', 'exec', ns, process.execPath, serverTs, JSON.stringify(listeners)],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
          env: { ...process.env, MESH_ORIGINAL_DST_MODULE: originalDstModule },
        },
      )
      servers.push(child)
      return new Promise((resolve, reject) => {
        child.stdout?.on('data', (d: Buffer) => {
          if (d.toString().includes('ready')) resolve()
        })
        child.on('exit', (code) => reject(new Error(`server in ${ns} exited with ${code}`)))
      })
    }

    function probe(ns: string, probes: object[], as?: string): Answer[] {
      const out = inNs(ns, process.execPath, clientTs, JSON.stringify(probes), ...(as ? [as] : []))
      return JSON.parse(out) as Answer[]
    }

    beforeAll(async () => {
      run('ip', 'netns', 'add', app)
      run('ip', 'netns', 'add', peer)
      run('ip', '-n', app, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', peer)
      for (const [ns, addrs, addrs6] of [
        [app, [APP], [APP6]],
        [peer, [PEER, PEER_EXCLUDED], [PEER6]],
      ] as const) {
        run('ip', '-n', ns, 'link', 'set', 'lo', 'up')
        for (const a of addrs) run('ip', '-n', ns, 'addr', 'add', `${a}/24`, 'dev', 'eth0')
        for (const a of addrs6) run('ip', '-n', ns, '-6', 'addr', 'add', `${a}/64`, 'dev', 'eth0', 'nodad')
        run('ip', '-n', ns, 'link', 'set', 'eth0', 'up')
      }
      // Something that was there before mesh-init and must survive `clean`.
      inNs(app, 'iptables', '-t', 'nat', '-A', 'OUTPUT', '-d', '198.18.250.1/32', '-j', 'RETURN')
      natBefore = natState()
      await startServer(app, [
        { name: 'outbound-proxy', port: 15001, mode: 'proxy' },
        { name: 'inbound-proxy', port: 15006, mode: 'proxy' },
        { name: 'app', port: 9080 },
        { name: 'app-excluded', port: 9081 },
        { name: 'health', port: 15021 },
      ])
      await startServer(peer, [
        { name: 'peer', port: 8080 },
        { name: 'peer-excluded', port: 8081 },
      ])
    })

    afterAll(() => {
      for (const s of servers) s.kill()
      for (const ns of [app, peer]) {
        try {
          run('ip', 'netns', 'del', ns)
        } catch {
          // never made
        }
      }
    })

    it('has the proxy’s SO_ORIGINAL_DST addon built (`make native`)', () => {
      expect(existsSync(addon), `${addon} is missing: run \`make native\``).toBe(true)
    })

    it('every golden rule file is accepted by iptables-restore --test (ip6tables-restore for v6)', () => {
      const dir = here('./testdata/golden/')
      const files = readdirSync(dir).filter((f) => f.endsWith('.rules'))
      expect(files.length).toBeGreaterThan(10)
      for (const file of files) {
        const bin = file.endsWith('.v6.rules') ? 'ip6tables-restore' : 'iptables-restore'
        const input = readFileSync(dir + file)
        expect(() =>
          execFileSync('ip', ['netns', 'exec', app, bin, '--test', '--noflush'], {
            input,
            stdio: ['pipe', 'pipe', 'pipe'],
          }),
        ).not.toThrow()
      }
      expect(natState()).toBe(natBefore)
    })

    it('before mesh-init, nothing is captured', () => {
      expect(probe(app, [{ host: PEER, port: 8080 }])[0]?.by).toBe('peer')
      expect(probe(peer, [{ host: APP, port: 9080 }])[0]?.by).toBe('app')
    })

    it('applies IPv4 and IPv6 rules (the pod has an IPv6 address), and a second run leaves one copy', () => {
      const out = meshInit('-o', '8081', '-d', '9081', '-x', `${PEER_EXCLUDED}/32`)
      expect(out).toContain('capture rules installed')
      expect(out).toContain('IPv4 and IPv6')
      const once = natState()
      expect(once.match(/-j MESH_OUTPUT/g)).toHaveLength(1)
      meshInit('-o', '8081', '-d', '9081', '-x', `${PEER_EXCLUDED}/32`)
      expect(natState()).toBe(once)
      expect(normalizeSave(inNs(app, 'ip6tables-save', '-t', 'nat')).match(/-j MESH_INBOUND/g)).toHaveLength(
        1,
      )
    })

    it('captures the app’s outbound TCP on 15001 and the proxy recovers the original destination', () => {
      const [v4, v6] = probe(app, [
        { host: PEER, port: 8080 },
        { host: PEER6, port: 8080 },
      ])
      expect(v4).toMatchObject({
        by: 'outbound-proxy',
        localPort: 15001,
        dst: { address: PEER, port: 8080, family: 4 },
      })
      expect(v6).toMatchObject({
        by: 'outbound-proxy',
        localPort: 15001,
        dst: { address: PEER6, port: 8080, family: 6 },
      })
    })

    it('does not capture excluded outbound ports and CIDRs, localhost, or the app calling itself', () => {
      const answers = probe(app, [
        { host: PEER, port: 8081 },
        { host: PEER_EXCLUDED, port: 8080 },
        { host: '127.0.0.1', port: 9080 },
        { host: APP, port: 9080 },
      ])
      expect(answers.map((a) => a.by)).toEqual(['peer-excluded', 'peer', 'app', 'app'])
    })

    it('captures inbound TCP on 15006 with the original destination, except excluded ports', () => {
      const answers = probe(peer, [
        { host: APP, port: 9080 },
        { host: APP6, port: 9080 },
        { host: APP, port: 9081 },
        { host: APP, port: 15021 },
      ])
      expect(answers[0]).toMatchObject({
        by: 'inbound-proxy',
        localPort: 15006,
        dst: { address: APP, port: 9080 },
      })
      expect(answers[1]).toMatchObject({ by: 'inbound-proxy', dst: { address: APP6, port: 9080, family: 6 } })
      expect(answers[2]?.by).toBe('app-excluded')
      expect(answers[3]?.by).toBe('health')
    })

    it('never captures uid 1337 or gid 1337 outbound, but does capture other users', () => {
      expect(probe(app, [{ host: PEER, port: 8080 }], '1337:1337')[0]?.by).toBe('peer')
      expect(probe(app, [{ host: PEER, port: 8080 }], '2000:1337')[0]?.by).toBe('peer')
      expect(probe(app, [{ host: PEER, port: 8080 }], '2000:2000')[0]?.by).toBe('outbound-proxy')
    })

    it('re-captures the proxy calling its own pod as inbound, but not from 127.0.0.6 (passthrough)', () => {
      const [selfCall, passthrough] = probe(
        app,
        [
          { host: APP, port: 9080 },
          { host: APP, port: 9080, localAddress: '127.0.0.6' },
        ],
        '1337:1337',
      )
      expect(selfCall).toMatchObject({ by: 'inbound-proxy', dst: { address: APP, port: 9080 } })
      expect(passthrough).toMatchObject({ by: 'app', localPort: 9080 })
    })

    it('clean removes exactly what it added, and traffic flows directly again', () => {
      expect(meshInit('clean')).toContain('capture rules removed')
      expect(natState()).toBe(natBefore)
      expect(normalizeSave(inNs(app, 'ip6tables-save', '-t', 'nat'))).not.toContain('MESH_')
      expect(probe(app, [{ host: PEER, port: 8080 }])[0]?.by).toBe('peer')
      expect(meshInit('clean')).toContain('nothing to clean')
    })

    it('works the same on the legacy backend', () => {
      meshInit('--backend', 'legacy', '--ipv6', 'off')
      expect(normalizeSave(inNs(app, 'iptables-legacy-save', '-t', 'nat'))).toContain('-j MESH_OUTPUT')
      expect(probe(app, [{ host: PEER, port: 8080 }])[0]).toMatchObject({
        by: 'outbound-proxy',
        dst: { port: 8080 },
      })
      meshInit('clean')
      expect(normalizeSave(inNs(app, 'iptables-legacy-save', '-t', 'nat'))).not.toContain('MESH_')
      expect(probe(app, [{ host: PEER, port: 8080 }])[0]?.by).toBe('peer')
    })
  },
)
