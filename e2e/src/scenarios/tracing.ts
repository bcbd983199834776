// Tracing on the cluster (registered by bookinfo.e2e.ts, last): the mesh installed again with a
// collector (a real Zipkin on this host, which pods reach at the host's address on their network),
// Bookinfo's pods re-created so the injector gives their sidecars the tracing settings, reviews v3
// (which calls ratings); then one productpage request through the gateway is one trace in Zipkin:
// gateway → productpage → details, and productpage → reviews → ratings, a client and a server span
// per hop. On the local cluster the manifests are applied through the driver (as its setup
// installs); on kube/cluster.sh's Kubernetes with `meshctl install --trace-collector …`, as a
// user would. kind's pods cannot reach this host's Zipkin by a fixed address: skipped there.
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { installManifests, repoRoot } from '@minimesh/cli'
import { describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import {
  startZipkin,
  type ZipkinSpanJson as ZipkinSpan,
  zipkinSkipReason,
} from '../../../packages/proxy/src/testdata/zipkin.ts'
import { report, sample } from '../bookinfo.ts'
import type { ClusterDriver } from '../driver.ts'
import type { KubeClusterTarget } from '../drivers/kube.ts'
import { GATEWAY_NODE_PORT, NODE_IP } from '../kube-cluster.ts'

/** Where pods reach host processes: the local cluster's bridge address, kube/cluster.sh's node address. */
const HOST_FROM_PODS: Record<string, string> = { local: '198.18.0.1', kube: NODE_IP }
const NS = 'default'
const APPS = ['productpage', 'details', 'reviews', 'ratings']

async function podNames(driver: ClusterDriver, ns: string, selector: string): Promise<string[]> {
  return (await driver.pods(ns, selector)).map((p) => p.name)
}

/** Waits until none of `old` is among the selector's pods and they are all ready. */
async function rolled(driver: ClusterDriver, ns: string, selector: string, old: string[]): Promise<void> {
  const end = Date.now() + 180_000
  while ((await podNames(driver, ns, selector)).some((n) => old.includes(n))) {
    if (Date.now() > end) throw new Error(`${ns}/${selector}: old pods still there after 180 s`)
    await new Promise((r) => setTimeout(r, 500))
  }
  await driver.waitReady(ns, selector, 180_000)
}

export function tracingScenarios(env: () => { driver: ClusterDriver; gw: string }): void {
  const driverName = process.env.E2E_DRIVER ?? 'local'
  const skip =
    HOST_FROM_PODS[driverName] === undefined
      ? `${driverName}: its pods reach no address of this host where Zipkin runs (local and kube only)`
      : zipkinSkipReason()
  if (skip) console.warn(`tracing scenario skipped: ${skip}`)

  describe(`Tracing (${driverName} cluster)`, () => {
    it.skipIf(skip !== undefined)(
      'tracing: a productpage request is one trace in a real Zipkin — gateway → productpage → details, reviews → ratings',
      async () => {
        const { driver, gw } = env()
        const zipkin = await startZipkin()
        try {
          const collector = `http://${HOST_FROM_PODS[driverName]}:${zipkin.port}/api/v2/spans`
          // The mesh with tracing: meshd's injector and the gateway get the collector, 100% sampling.
          const meshd = await podNames(driver, 'minimesh-system', 'app=meshd')
          const gateway = await podNames(driver, 'minimesh-system', 'minimesh=ingressgateway')
          if (driverName === 'kube') {
            const { kubeconfig, context } = (driver as { target?: KubeClusterTarget }).target!
            await promisify(execFile)(
              join(repoRoot(), 'meshctl'),
              [
                'install',
                '--context',
                context,
                ...(kubeconfig ? ['--kubeconfig', kubeconfig] : []),
                '--gateway-node-port',
                String(GATEWAY_NODE_PORT),
                '--trace-collector',
                collector,
                '--trace-sampling',
                '100',
              ],
              { timeout: 300_000 },
            )
          } else {
            const manifests = await installManifests({ tracing: { collector, sampling: 100 } })
            await driver.apply(
              manifests.map((o) => stringify(o, { aliasDuplicateObjects: false })).join('---\n'),
            )
          }
          await rolled(driver, 'minimesh-system', 'app=meshd', meshd)
          await rolled(driver, 'minimesh-system', 'minimesh=ingressgateway', gateway)
          // Bookinfo's pods made again: injected with MESH_TRACE_*.
          for (const app of APPS) {
            const old = await podNames(driver, NS, `app=${app}`)
            await driver.delete(
              old
                .map((name) => `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n  namespace: ${NS}\n`)
                .join('---\n'),
            )
            await rolled(driver, NS, `app=${app}`, old)
          }
          await driver.apply(sample('networking/virtual-service-reviews-v3.yaml'), NS)
          await driver.waitConfigPropagated()

          const traceId = `${Date.now().toString(16).padStart(16, '0')}${'e2e0'.repeat(4)}`
          const res = await fetch(`${gw}/productpage`, {
            headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
          })
          const body = await res.text()
          expect(res.status).toBe(200)
          // reviews v3 (red stars): it called ratings.
          expect(body).toMatch(/glyphicon-star(?:-empty)?" style="color:red"/)
          const spans = await zipkin.waitForTrace(traceId, 8, 30_000)
          const byId = new Map(spans.map((s) => [s.id, s]))
          const show = (s: ZipkinSpan) => `${s.localEndpoint?.serviceName} ${s.kind} ${s.name}`
          const edges = spans
            .map((s) => {
              const parent = s.parentId ? byId.get(s.parentId) : undefined
              return `${parent ? show(parent) : s.parentId === '00f067aa0ba902b7' ? '(caller)' : `(missing ${s.parentId})`} -> ${show(s)}`
            })
            .sort()
          report('tracing', { traceId, spans: spans.length, edges })
          const svc = (n: string) => `${n}.${NS}.svc.cluster.local:9080/*`
          const gwName = 'minimesh-ingressgateway.minimesh-system'
          expect(edges).toEqual(
            [
              `(caller) -> ${gwName} CLIENT ${svc('productpage')}`,
              `${gwName} CLIENT ${svc('productpage')} -> productpage.default SERVER ${svc('productpage')}`,
              `productpage.default SERVER ${svc('productpage')} -> productpage.default CLIENT ${svc('details')}`,
              `productpage.default SERVER ${svc('productpage')} -> productpage.default CLIENT ${svc('reviews')}`,
              `productpage.default CLIENT ${svc('details')} -> details.default SERVER ${svc('details')}`,
              `productpage.default CLIENT ${svc('reviews')} -> reviews.default SERVER ${svc('reviews')}`,
              `reviews.default SERVER ${svc('reviews')} -> reviews.default CLIENT ${svc('ratings')}`,
              `reviews.default CLIENT ${svc('ratings')} -> ratings.default SERVER ${svc('ratings')}`,
            ].sort(),
          )
          for (const s of spans) {
            expect(s.tags?.['http.status_code']).toBe('200')
            expect(s.tags?.node_id).toMatch(
              driverName === 'kube' ? /^(sidecar|router)~10\.244\./ : /^(sidecar|router)~198\.18\./,
            )
            expect(s.tags?.upstream_cluster).toMatch(/^(outbound|inbound)\|9080\|/)
          }
        } finally {
          await zipkin.close()
        }
      },
      600_000,
    )
  })
}
