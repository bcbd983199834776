// The host plumbing for real: a bridge, two pod netns, hosts-file names, ClusterIP DNAT from the
// host and from a pod (and a pod to its own ClusterIP), a rejected ClusterIP with no endpoints,
// and a teardown that leaves nothing behind. Uses its own bridge, ranges and prefixes.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Ledger } from '../ledger.ts'
import { silentLogger } from '../log.ts'
import {
  canRunNetns,
  hostSnapshot,
  iptablesChanges,
  leftovers,
  processesMentioning,
} from '../testdata/host-snapshot.ts'
import { SpawnExec } from './exec.ts'
import { renderHostsFile } from './hosts-file.ts'
import { Network, type PodNetwork } from './network.ts'

const skip = canRunNetns()
const MARK = 'mmt1'

// Node one-liners run inside the pods (stand-ins for containers).
const SERVER = `require('http').createServer((q,s)=>s.end('hello from '+process.env.WHO)).listen(8080,'0.0.0.0')`
const FETCH = `fetch(process.argv[1]).then(r=>r.text()).then(t=>{console.log(t)},e=>{console.log('ERR '+(e.cause?.code??e.message));process.exitCode=1})`

function run(
  argv: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, ...env } })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.on('close', (code) => resolve({ code, out: out.trim() }))
  })
}

/** FETCH run on the host (netns undefined) or in a pod's netns: the body, or `ERR <code>`. */
function fetchFrom(netns: string | undefined, url: string, script = FETCH) {
  const node = [process.execPath, '-e', script, url]
  return run(netns === undefined ? node : ['ip', 'netns', 'exec', netns, ...node])
}

describe.skipIf(skip)(
  skip
    ? `network (real netns, bridge and iptables) (skipped: ${skip})`
    : 'network (real netns, bridge and iptables)',
  () => {
    const runDir = mkdtempSync(join(tmpdir(), 'mm-net-'))
    const before = hostSnapshot()
    const exec = new SpawnExec()
    const network = new Network({
      exec,
      ledger: new Ledger(runDir),
      log: silentLogger(),
      bridge: `${MARK}br`,
      podCidr: '198.18.201.0/24',
      serviceCidr: '198.19.201.0/24',
      netnsPrefix: MARK,
      linkPrefix: 'mt1',
      chainPrefix: 'MMT1',
    })
    let a: PodNetwork
    let b: PodNetwork
    const svcIp = '198.19.201.10'
    const emptyIp = '198.19.201.11'

    beforeAll(async () => {
      await network.setup()
      a = await network.addPod('default', 'client')
      b = await network.addPod('web-ns', 'server')
      const services = [
        { name: 'web', namespace: 'web-ns', addresses: [svcIp] },
        { name: 'empty', namespace: 'default', addresses: [emptyIp] },
      ]
      for (const [p, ns, name] of [
        [a, 'default', 'client'],
        [b, 'web-ns', 'server'],
      ] as const)
        network.writeEtcFile(
          p.netns,
          'hosts',
          renderHostsFile({ podName: name, podNamespace: ns, podIp: p.ip, services }),
        )
      await network.syncServices([
        {
          id: 'web-ns/web:http',
          clusterIp: svcIp,
          port: 80,
          protocol: 'tcp',
          endpoints: [{ ip: b.ip, port: 8080 }],
        },
        { id: 'default/empty:http', clusterIp: emptyIp, port: 80, protocol: 'tcp', endpoints: [] },
      ])
      const server = spawn('ip', ['netns', 'exec', b.netns, process.execPath, '-e', SERVER, MARK], {
        env: { ...process.env, WHO: 'server' },
        stdio: 'ignore',
        detached: true,
      })
      server.unref()
      for (let i = 0; i < 50; i++) {
        if ((await fetchFrom(b.netns, 'http://127.0.0.1:8080/')).code === 0) break
        await new Promise((r) => setTimeout(r, 100))
      }
    })

    afterAll(async () => {
      await network.teardown().catch(() => {})
      rmSync(runDir, { recursive: true, force: true })
    })

    it('gives each pod its own netns and address on the bridge', () => {
      expect(a.netns).toBe('mmt1-default-client')
      expect(b.netns).toBe('mmt1-web-ns-server')
      expect(a.ip).toMatch(/^198\.18\.201\.\d+$/)
      expect(a.ip).not.toBe(b.ip)
      expect(a.hostVeth.length).toBeLessThanOrEqual(15)
    })

    it('reaches a pod directly across the bridge', async () => {
      const r = await fetchFrom(a.netns, `http://${b.ip}:8080/`)
      expect(r.out).toBe('hello from server')
    })

    it('reaches a ClusterIP from the host through DNAT', async () => {
      const r = await fetchFrom(undefined, `http://${svcIp}/`)
      expect(r.out).toBe('hello from server')
    })

    it('resolves Service names from the hosts file and reaches the ClusterIP from another pod', async () => {
      for (const name of ['web.web-ns', 'web.web-ns.svc', 'web.web-ns.svc.cluster.local']) {
        const r = await fetchFrom(a.netns, `http://${name}/`)
        expect(r.out, name).toBe('hello from server')
      }
      // The short name resolves only in the Service's own namespace.
      const short = await fetchFrom(a.netns, 'http://web/')
      expect(short.out).toMatch(/^ERR (ENOTFOUND|EAI_AGAIN)/)
    })

    it('reaches its own ClusterIP from the serving pod (hairpin)', async () => {
      const r = await fetchFrom(b.netns, 'http://web/')
      expect(r.out).toBe('hello from server')
    })

    it('refuses a ClusterIP with no ready endpoints at once', async () => {
      const t0 = Date.now()
      const r = await fetchFrom(undefined, `http://${emptyIp}/`)
      expect(r.out).toBe('ERR ECONNREFUSED')
      const fromPod = await fetchFrom(a.netns, 'http://empty/')
      expect(fromPod.out).toBe('ERR ECONNREFUSED')
      expect(Date.now() - t0).toBeLessThan(3000)
    })

    it('updates the hosts file in place, so running processes see new names', async () => {
      const services = [{ name: 'late', namespace: 'default', addresses: [svcIp] }]
      const reader = fetchFrom(a.netns, 'http://late/', `setTimeout(()=>{${FETCH}},700)`)
      await new Promise((r) => setTimeout(r, 300))
      network.writeEtcFile(
        a.netns,
        'hosts',
        renderHostsFile({ podName: 'client', podNamespace: 'default', podIp: a.ip, services }),
      )
      expect((await reader).out).toBe('hello from server')
    })

    it('teardown leaves no netns, link, rule, /etc/netns entry or process behind', async () => {
      expect(processesMentioning(MARK).length).toBeGreaterThan(0)
      const removed = await network.teardown()
      expect(removed.join(', ')).toMatch(/2 netns/)
      const after = hostSnapshot()
      expect(leftovers(before, after, [MARK, 'mt1', 'MMT1'])).toEqual([])
      expect(iptablesChanges(before, after, 'MMT1')).toEqual([])
      expect(processesMentioning(MARK)).toEqual([])
    })
  },
)
