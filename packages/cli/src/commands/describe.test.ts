// meshctl describe service|pod for Bookinfo's reviews against a real meshd process (reading the
// Bookinfo fixtures and rules from its config directory) and a real reviews-v2 sidecar connected
// to it. The cluster is a stand-in (named so): it lists the objects this test gave meshd and
// forwards the pod's admin port to the sidecar process's admin address, as a port-forward would.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadYaml } from '@minimesh/api'
import type { KubeObject } from '@minimesh/api/kube'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { forwardPort } from '../mesh/port-forward.ts'
import { DirectTarget, type MeshKind } from '../mesh/target.ts'
import { type Proc, startMeshd, startSidecar, stop, writeConfig } from '../testdata/mesh.ts'
import { describeCommand } from './describe.ts'

const BOOKINFO = fileURLToPath(new URL('../../../control-plane/src/testdata/bookinfo/', import.meta.url))
const fixture = (file: string) =>
  loadYaml(readFileSync(join(BOOKINFO, file), 'utf8')).objects.map((o) => o.object as unknown as KubeObject)

// reviews: jason to v2 with a timeout and retries; everyone else 90/10 over v1/v3 with a delay fault.
const reviewsRoute = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name: 'reviews', namespace: 'default', generation: 1, resourceVersion: '7' },
  spec: {
    hosts: ['reviews'],
    http: [
      {
        match: [{ headers: { 'end-user': { exact: 'jason' } } }],
        route: [{ destination: { host: 'reviews', subset: 'v2' } }],
        timeout: '0.5s',
        retries: { attempts: 3, perTryTimeout: '0.2s', retryOn: '5xx' },
      },
      {
        route: [
          { destination: { host: 'reviews', subset: 'v1' }, weight: 90 },
          { destination: { host: 'reviews', subset: 'v3' }, weight: 10 },
        ],
        fault: { delay: { fixedDelay: '2s', percentage: { value: 50 } } },
      },
    ],
  },
}

/** A stand-in cluster: lists what meshd was given; forwards the pod's admin to the sidecar's. */
class StandInCluster extends DirectTarget {
  objects: KubeObject[] = []
  admins = new Map<string, string>()
  override async list(kind: MeshKind, namespace?: string): Promise<KubeObject[]> {
    return this.objects.filter(
      (o) => o.kind === kind && (!namespace || (o.metadata.namespace ?? 'default') === namespace),
    )
  }
  override async forward(namespace: string, pod: string, port: number) {
    const admin = this.admins.get(`${namespace}/${pod}`)
    if (!admin || port !== 15000) throw new Error(`no admin for ${namespace}/${pod}:${port}`)
    const [host, p] = admin.split(':') as [string, string]
    return forwardPort((socket) => {
      const upstream = createConnection(Number(p), host)
      socket.pipe(upstream).pipe(socket)
      upstream.on('error', () => socket.destroy())
      socket.on('error', () => upstream.destroy())
    }, `${namespace}/${pod}:${port}`)
  }
}

describe('meshctl describe on Bookinfo reviews (real meshd and sidecar)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-cli-describe-'))
  let meshd: (Proc & { monitoring: string; grpc: string }) | undefined
  let proxy: (Proc & { admin: string }) | undefined
  let cluster: StandInCluster

  async function describeIt(what: string, name: string) {
    const out: string[] = []
    const code = await describeCommand(cluster, what, name, undefined, {
      out: (t) => out.push(t),
      err: (t) => out.push(t),
      stdin: process.stdin,
      cwd: dir,
    })
    return { code, out: out.join('') }
  }

  beforeAll(async () => {
    const objects = [
      ...fixture('platform.yaml'),
      ...fixture('destination-rule-all.yaml'),
      ...fixture('quota-policy.yaml'),
      ...fixture('peer-authentication.yaml'),
      ...fixture('authorization-policy.yaml'),
      reviewsRoute as KubeObject,
    ]
    writeConfig(dir, 'bookinfo.yaml', objects)
    meshd = await startMeshd(dir)
    cluster = new StandInCluster(meshd.monitoring)
    cluster.objects = objects
    proxy = await startSidecar(meshd.grpc, {
      name: 'reviews-v2-7d59c96f8b-k4hzj',
      namespace: 'default',
      ip: '127.0.0.1',
      labels: { app: 'reviews', version: 'v2' },
    })
    cluster.admins.set('default/reviews-v2-7d59c96f8b-k4hzj', proxy.admin)
  }, 40_000)
  afterAll(() => {
    stop(proxy, meshd)
    rmSync(dir, { recursive: true, force: true })
  })

  it('service: routes, subsets, timeout, retries, fault, quota, mTLS both ways and authorization, each with meshd’s verdict', async () => {
    const { code, out } = await describeIt('service', 'reviews')
    expect(code).toBe(0)
    const lines = out.split('\n')
    const at = (re: RegExp) => {
      const i = lines.findIndex((l) => re.test(l))
      expect(i, `no line matching ${re} in:\n${out}`).toBeGreaterThanOrEqual(0)
      return i
    }
    expect(lines[0]).toBe('Service: reviews.default (9080/http)')
    // Routing, in rule order, with the rule's own effect under each match.
    const vs = at(/^ {2}VirtualService default\/reviews: Accepted \(generation 1\)$/)
    expect(lines.slice(vs + 1, vs + 9)).toEqual([
      '    when header end-user exact jason:',
      '      route to reviews subset v2',
      '      timeout 0.5s',
      '      retries 3, 0.2s per try on 5xx',
      '    when any request:',
      '      route to reviews subset v1 90%, reviews subset v3 10%',
      '      fault: delay 2s for 50%',
      expect.stringMatching(/^ {2}DestinationRule default\/reviews: Accepted/),
    ])
    expect(lines.slice(vs + 8, vs + 11)).toEqual([
      expect.any(String),
      '    subset v1 (version=v1)',
      '    subset v2 (version=v2)',
    ])
    at(
      /^ {2}QuotaPolicy default\/requestcount: 500 per 1s; overrides: \{"source":"productpage"\} → 2 per 5s; \{"destination":"reviews"\} → 100 per 1s \(Accepted/,
    )
    expect(lines[at(/^ {2}mTLS from clients' sidecars: /)]).toBe(
      "  mTLS from clients' sidecars: automatic: ISTIO_MUTUAL to endpoints with a sidecar, plaintext to the others (no DestinationRule sets tls)",
    )
    // Server side, per workload behind the service: STRICT from the namespace, 9080 PERMISSIVE.
    for (const v of ['v1', 'v2', 'v3']) {
      const w = at(new RegExp(`^ {2}Workload app=reviews,version=${v}:$`))
      expect(lines[w + 1]).toBe(
        '    mTLS it accepts: STRICT (PeerAuthentication default/default, namespace-wide); port 9080 PERMISSIVE (PeerAuthentication default/reviews)',
      )
      expect(lines[w + 2]).toBe('    AuthorizationPolicy (in evaluation order):')
      expect(lines.slice(w + 3, w + 8)).toEqual([
        expect.stringMatching(
          /^ {6}DENY minimesh-system\/deny-blocked-ranges: from ipBlocks 203\.0\.113\.0\/24, 192\.0\.2\.7 \(Accepted/,
        ),
        expect.stringMatching(/^ {6}ALLOW default\/allow-nothing: no rules: matches no request \(Accepted/),
        expect.stringMatching(
          /^ {6}ALLOW default\/reviews-viewer: from principals cluster\.local\/ns\/default\/sa\/bookinfo-productpage; to methods GET, notPaths \/internal\*; when request\.headers\[x-canary\] notValues \* \(Accepted/,
        ),
        expect.stringMatching(/^ {6}AUDIT default\/audit-reviews-writes: to notMethods GET, HEAD \(Accepted/),
        '      => denied when a DENY rule matches; allowed only when an ALLOW rule matches',
      ])
    }
  }, 30_000)

  it("pod: the same for the services selecting it, its own subset marked, and its proxy's routes read through the cluster", async () => {
    const { code, out } = await describeIt('pod', 'reviews-v2-7d59c96f8b-k4hzj')
    expect(code).toBe(0)
    expect(out).toMatch(
      /^Pod: reviews-v2-7d59c96f8b-k4hzj\.default {2}labels app=reviews,version=v2,pod-template-hash=7d59c96f8b\n {2}sidecar: injected \(mesh-proxy\)\nService: reviews\.default/,
    )
    expect(out).toContain('    subset v2 (version=v2)  <- this pod\n')
    expect(out).not.toContain('subset v1 (version=v1)  <- this pod')
    expect(out).toContain('  Workload app=reviews,version=v2,pod-template-hash=7d59c96f8b:\n')
    expect(out).not.toContain('Workload app=reviews,version=v1')
    // Its proxy's routes, as served now: meshd's reviews routes reached this sidecar.
    const routes = out.slice(out.indexOf("Routes this pod's proxy serves now:"))
    expect(routes).toMatch(/outbound\|9080\|v2\|reviews\.default\.svc\.cluster\.local/)
    expect(routes).toMatch(/outbound\|9080\|v1\|reviews\.default\.svc\.cluster\.local/)
  }, 30_000)

  it('ratings: DISABLE from its workload policy; details: what its DestinationRule sends', async () => {
    const ratings = (await describeIt('svc', 'ratings')).out
    expect(ratings).toContain('    mTLS it accepts: DISABLE (PeerAuthentication default/ratings)\n')
    expect(ratings).toContain('  VirtualService: none (round robin over every endpoint)\n')
    const details = (await describeIt('svc', 'details')).out
    expect(details).toContain(
      "  mTLS from clients' sidecars: tls ISTIO_MUTUAL (DestinationRule default/details)\n",
    )
    const missing = await describeIt('svc', 'nope').catch((e: Error) => e)
    expect((missing as Error).message).toBe('service "nope" not found in namespace default')
  }, 30_000)
})
