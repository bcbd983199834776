// meshctl apply, get and wait --for=sync on Kubernetes, against the FAKE API server of the install
// tests (no Kubernetes runs here; the real one is in the Kubernetes e2e) in front of a real meshd
// process and a real sidecar connected to it: the fake's service proxy reaches meshd, and what it
// stores on apply is written to meshd's config directory, standing in for meshd's watch of it.
// Status is written to the fake's objects from meshd's own verdict with the function meshd's
// status writer uses (resourceStatus), as meshd does on a real cluster.
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { resourceStatus } from '@minimesh/api'
import type { KubeObject } from '@minimesh/api/kube'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { type FakeApiServer, startFakeApiServer } from '../install/testdata/fake-apiserver.ts'
import type { Configz } from '../mesh/configz.ts'
import { type Proc, startMeshd, startSidecar, stop, writeConfig } from '../testdata/mesh.ts'
import { meshctl } from '../testdata/meshctl.ts'

const meshdDir = mkdtempSync(join(tmpdir(), 'mm-cli-kube-meshd-'))
const work = mkdtempSync(join(tmpdir(), 'mm-cli-kube-'))
const kubeconfig = join(work, 'kubeconfig')

const service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'reviews', namespace: 'default' },
  spec: { clusterIP: '10.96.9.9', selector: { app: 'reviews' }, ports: [{ name: 'http', port: 9080 }] },
}
const rule = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: { name: 'reviews', namespace: 'default' },
  spec: { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }] },
}
const route = (subset: string) => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name: 'reviews' },
  spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset } }] }] },
})

function file(name: string, objects: object[]): string {
  writeFileSync(join(work, name), objects.map((o) => stringify(o)).join('---\n'))
  return name
}

async function run(...args: string[]) {
  const { code, out, err } = await meshctl([...args, '--kubeconfig', kubeconfig], work)
  return { code, out, err: err.replace(/^ {2}waiting: .*\n/gm, '') }
}

describe('meshctl apply, get and wait on Kubernetes (fake API server, real meshd and sidecar)', () => {
  let meshd: (Proc & { monitoring: string; grpc: string }) | undefined
  let proxy: Proc | undefined
  let api: FakeApiServer | undefined
  const stored = (kind: string, name: string) => api!.objects.get(`${kind}/default/${name}`)!

  /** What meshd's status writer does: meshd's verdict on each mesh object, written as its status. */
  async function writeStatusFromMeshd(): Promise<void> {
    const configz = (await (await fetch(`http://${meshd!.monitoring}/debug/configz`)).json()) as Configz
    for (const o of configz.objects) {
      const obj = api!.objects.get(`${o.kind}/${o.namespace}/${o.name}`)
      if (obj && o.state !== 'ignored' && o.uid === obj.metadata.uid)
        obj.status = resourceStatus(o) as unknown as Record<string, unknown>
    }
  }

  beforeAll(async () => {
    meshd = await startMeshd(meshdDir)
    api = await startFakeApiServer({
      onApply: (obj: KubeObject) =>
        writeConfig(meshdDir, `${obj.kind}-${obj.metadata.namespace}-${obj.metadata.name}.yaml`, [obj]),
      serviceProxy: async (ns, svc, port, path) => {
        expect([ns, svc, port]).toEqual(['minimesh-system', 'meshd', 15014])
        const res = await fetch(`http://${meshd!.monitoring}${path}`)
        return { status: res.status, body: await res.text() }
      },
    })
    writeFileSync(kubeconfig, api.kubeconfig())
    proxy = await startSidecar(meshd.grpc, {
      name: 'productpage-v1-abc',
      namespace: 'default',
      ip: '127.0.0.1',
      labels: { app: 'productpage', version: 'v1' },
    })
  }, 40_000)
  afterAll(async () => {
    stop(proxy, meshd)
    await api?.close()
    rmSync(meshdDir, { recursive: true, force: true })
    rmSync(work, { recursive: true, force: true })
  })

  it('apply: created, then meshd has nothing to say', async () => {
    const r = await run('apply', '-f', file('base.yaml', [service, rule, route('v1')]))
    expect(r.out).toBe(
      'service/reviews created\ndestinationrule/reviews created\nvirtualservice/reviews created\n',
    )
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(stored('VirtualService', 'reviews').metadata.namespace).toBe('default')
    expect(api!.requests.some((q) => q.query.fieldManager === 'meshctl-apply')).toBe(true)
  }, 30_000)

  it('apply: a VirtualService meshd rejects is applied and warned about, naming why and what serves', async () => {
    const r = await run('apply', '-f', file('v9.yaml', [route('v9')]))
    expect(r.out).toBe('virtualservice/reviews configured\n')
    expect(r.err).toMatch(
      /^Warning: virtualservice\/reviews -n default rejected by meshd: spec\.http\[0\]\.route\[0\]\.destination\.subset: subset "v9" is not defined by DestinationRule default\/reviews, which defines v1; serving generation 1\n$/,
    )
    expect(r.code).toBe(0)
    const again = await run('apply', '-f', 'v9.yaml', '--wait', '--timeout', '20s')
    expect(again.out).toMatch(/^virtualservice\/reviews unchanged\nsynced: 1 proxy has ACKed snapshot \d+/)
    expect(again.err).toMatch(/^Warning: virtualservice\/reviews -n default rejected by meshd: .*subset "v9"/)
    expect(again.code).toBe(1)
  }, 30_000)

  it('get: STATUS is the status meshd wrote: Rejected with why and the generation that serves; -o yaml has it all', async () => {
    await writeStatusFromMeshd()
    const vs = await run('get', 'vs')
    expect(vs.code).toBe(0)
    expect(vs.out).toMatch(
      /^NAME +AGE +STATUS\nreviews +\S+ +Rejected: spec\.http\[0\]\.route\[0\]\.destination\.subset: subset "v9" is not defined by DestinationRule default\/reviews, which defines v1; serving generation 1\n$/,
    )
    expect((await run('get', 'destinationrules', 'reviews')).out).toMatch(
      /\nreviews +\S+ +Accepted \(generation 1\)\n$/,
    )
    const yaml = (await run('get', 'vs', 'reviews', '-o', 'yaml')).out
    expect(yaml).toMatch(/observedGeneration: 2\n/)
    expect(yaml).toMatch(/reason: RejectedServingPrevious\n/)
    expect(yaml).toMatch(/servingGeneration: 1\n/)
    expect(yaml).toMatch(/code: MESH_ERR_API_UNKNOWN_SUBSET\n/)
    expect((await run('get', 'vs', '-A')).out).toMatch(/^NAMESPACE +NAME +AGE +STATUS\ndefault +reviews /)
  }, 30_000)

  it('get: a generation meshd has not reported on is Pending, with what the last report said', async () => {
    const fixed = route('v1')
    const r = await run('apply', '-f', file('fixed.yaml', [fixed]), '--wait', '--timeout', '20s')
    expect(r.code).toBe(0)
    expect(r.err).toBe('')
    expect((await run('get', 'vs')).out).toMatch(
      /\nreviews +\S+ +Pending: meshd has not reported on generation 3 yet \(generation 2: Rejected: .*\)\n$/,
    )
    await writeStatusFromMeshd()
    expect((await run('get', 'vs')).out).toMatch(/\nreviews +\S+ +Accepted \(generation 3\)\n$/)
  }, 30_000)

  it('wait --for=sync: a resourceVersion moved only by a status write is no change meshd must read', async () => {
    // meshd's own status write bumps the resourceVersion; meshd stores that without rebuilding.
    const vs = stored('VirtualService', 'reviews')
    vs.metadata.resourceVersion = String(Number(vs.metadata.resourceVersion) + 1000)
    const r = await run('wait', '--for=sync', '--timeout', '10s')
    expect(r.err).toBe('')
    expect(r.out).toMatch(/^synced: 1 proxy has ACKed snapshot \d+/)
    expect(r.code).toBe(0)
    // A new incarnation (another uid) at the same generation is not what meshd read.
    vs.metadata.uid = 'someone-else'
    const stale = await run('wait', '--for=sync', '--timeout', '1s')
    expect(stale.code).toBe(1)
    expect(stale.err).toMatch(/meshd has not read VirtualService default\/reviews yet/)
  }, 30_000)

  it('errors name the object and the fix; --meshd has no cluster to read', async () => {
    const missing = await run('get', 'vs', 'nope')
    expect(missing.code).toBe(1)
    expect(missing.err).toBe('meshctl get: virtualservices "nope" not found in namespace default\n')
    const direct = await meshctl(['get', 'vs', '--meshd', meshd!.monitoring], work)
    expect(direct.code).toBe(2)
    // The error and one usage line, not the whole help.
    expect(direct.err).toBe(
      'meshctl get: get reads a cluster: use --local or a kubeconfig (--meshd reaches meshd only)\nUsage: meshctl get KIND [NAME] [-n NS | -A] [-l SELECTOR] [-o wide|yaml|json|name] [--local | --kubeconfig FILE --context NAME]\n',
    )
    const noFile = await run('apply', '-f', 'missing.yaml')
    expect(noFile.code).toBe(1)
    expect(noFile.err).toMatch(/cannot read missing\.yaml: no such file or directory/)
    unlinkSync(join(work, 'v9.yaml'))
  })
})
