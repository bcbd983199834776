// meshctl wait --for=sync, proxy-status and proxy-config against a real meshd process (reading a
// config directory) and a real mesh-proxy sidecar process connected to it over gRPC.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { KubeObject } from '@minimesh/api/kube'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DirectTarget, type MeshKind } from '../mesh/target.ts'
import { type Proc, startMeshd, startSidecar, stop, writeConfig } from '../testdata/mesh.ts'
import { meshctl, recordingIo } from '../testdata/meshctl.ts'
import { waitForSync } from './wait.ts'

const dir = mkdtempSync(join(tmpdir(), 'mm-cli-mesh-'))

const run = (...args: string[]) => meshctl(args, dir)

const service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'reviews', namespace: 'default', resourceVersion: '1' },
  spec: { clusterIP: '198.19.9.9', selector: { app: 'reviews' }, ports: [{ name: 'http', port: 9080 }] },
}
const rule = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: { name: 'reviews', namespace: 'default', resourceVersion: '2', generation: 1 },
  spec: { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }] },
}
const route = (subset: string, resourceVersion: string, generation: number) => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name: 'reviews', namespace: 'default', resourceVersion, generation },
  spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset } }] }] },
})

/**
 * meshd at an address, with "the cluster" being what this test wrote to meshd's directory (what
 * the local cluster's and Kubernetes' targets list from their API): a recording edge, named so.
 */
class WrittenConfigTarget extends DirectTarget {
  objects: KubeObject[] = []
  override async list(kind: MeshKind): Promise<KubeObject[]> {
    return this.objects.filter((o) => o.kind === kind)
  }
}

async function waitSync(target: WrittenConfigTarget, objects: object[]) {
  writeConfig(dir, 'rules.yaml', objects)
  target.objects = objects as KubeObject[]
  const { io, out, err } = recordingIo(dir)
  const code = await waitForSync(target, io, 20_000)
  return { code, out: out.join(''), err: err.join('').replace(/^ {2}waiting: .*\n/gm, '') }
}

describe('meshctl against a live meshd and proxy', () => {
  let meshd: (Proc & { monitoring: string; grpc: string }) | undefined
  let proxy: (Proc & { admin: string }) | undefined

  beforeAll(async () => {
    writeConfig(dir, 'platform.yaml', [service])
    writeConfig(dir, 'rules.yaml', [rule, route('v1', '3', 1)])
    meshd = await startMeshd(dir)
    proxy = await startSidecar(meshd.grpc, {
      name: 'productpage-v1-abc',
      namespace: 'default',
      ip: '127.0.0.1',
      labels: { app: 'productpage', version: 'v1' },
    })
  }, 40_000)
  afterAll(() => {
    stop(proxy, meshd)
    rmSync(dir, { recursive: true, force: true })
  })

  it('wait --for=sync returns once the proxy has ACKed the newest snapshot', async () => {
    const r = await run('wait', '--for=sync', '--meshd', meshd!.monitoring, '--timeout', '20s')
    expect(r.err).not.toMatch(/Warning/)
    expect(r.out).toMatch(/^synced: 1 proxy has ACKed snapshot \d+ \(\d+\.\ds\)\n$/)
    expect(r.code).toBe(0)
  }, 30_000)

  it('proxy-status lists the proxy, each type SYNCED', async () => {
    const r = await run('proxy-status', '--meshd', meshd!.monitoring)
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/^meshd snapshot \d+; 1 proxy connected\n/)
    expect(r.out).toMatch(/NAME +TYPE +SNAPSHOT +CDS +LDS +EDS +RDS +SECRET +VHDS +STATUS\n/)
    expect(r.out).toMatch(/productpage-v1-abc\.default +sidecar +\d+ +(SYNCED +){6}SYNCED\n$/)
    const json = JSON.parse((await run('proxy-status', '--meshd', meshd!.monitoring, '-o', 'json')).out)
    expect(json.proxies[0].proxy).toMatch(/^sidecar~127\.0\.0\.1~productpage-v1-abc\.default~/)
  })

  it('a rejected VirtualService is named with why and which generation serves; the proxy keeps v1', async () => {
    const r = await waitSync(new WrittenConfigTarget(meshd!.monitoring), [rule, route('v9', '4', 2)])
    expect(r.code).toBe(1)
    expect(r.out).toMatch(/^synced: 1 proxy has ACKed snapshot \d+/)
    expect(r.err).toMatch(
      /Warning: VirtualService default\/reviews: Rejected: spec\.http\[0\]\.route\[0\]\.destination\.subset: subset "v9" is not defined by DestinationRule default\/reviews[^\n]*; serving generation 1\n/,
    )
    const routes = await run('proxy-config', 'routes', '--admin', proxy!.admin)
    expect(routes.code).toBe(0)
    expect(routes.out).toContain('outbound|9080|v1|reviews.default.svc.cluster.local')
    expect(routes.out).not.toContain('|v9|')
  }, 30_000)

  it('a fixed VirtualService serves once wait returns', async () => {
    const r = await waitSync(new WrittenConfigTarget(meshd!.monitoring), [
      {
        ...rule,
        spec: { ...rule.spec, subsets: [...rule.spec.subsets, { name: 'v2', labels: { version: 'v2' } }] },
      },
      route('v2', '5', 3),
    ])
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    // Right after wait returns, with no pause: the proxy serves the new route.
    const routes = await run('proxy-config', 'routes', '--admin', proxy!.admin)
    expect(routes.out).toContain('outbound|9080|v2|reviews.default.svc.cluster.local')
  }, 30_000)

  it('wait fails, naming the proxy, when it cannot sync in time', async () => {
    stop(proxy)
    await new Promise((r) => setTimeout(r, 300))
    // The proxy is gone: nothing to wait for, so it is synced with no proxies …
    const none = await run('wait', '--for=sync', '--meshd', meshd!.monitoring, '--timeout', '5s')
    expect(none.out).toMatch(/synced: 0 proxies have ACKed/)
    // … and an unreachable meshd is named, with what to check.
    const bad = await run('wait', '--for=sync', '--meshd', '127.0.0.1:1', '--timeout', '2s')
    expect(bad.code).toBe(1)
    expect(bad.err).toMatch(
      /cannot reach meshd at http:\/\/127\.0\.0\.1:1\/debug\/configz .*is the mesh installed/,
    )
  })

  it('proxy-config says how to name a pod when no admin answers', async () => {
    const r = await run('proxy-config', 'routes', '--admin', '127.0.0.1:1')
    expect(r.code).toBe(1)
    expect(r.err).toMatch(
      /cannot reach the proxy admin at http:\/\/127\.0\.0\.1:1\/config_dump .*name one: meshctl proxy-config routes POD/,
    )
    const usage = await run('proxy-config', 'routes', 'pod-a', '--admin', '127.0.0.1:1')
    expect(usage.code).toBe(2)
    expect(usage.err).toMatch(/give either a POD or --admin/)
    expect((await run('wait', '--meshd', meshd!.monitoring)).err).toMatch(/--for=sync/)
  })
})
