// The sidecar's ports moved off their defaults, end to end: the injector webhook (real HTTPS) is
// configured with other capture, status, health and Prometheus ports; pods are injected through
// it; mesh-init's real iptables redirect to those ports and the real mesh-proxy, configured by a
// real meshd (which always describes the capture listeners on the defaults), must bind there. A
// client pod's request to a Service then goes app → its sidecar → the server's sidecar → app, the
// pods are ready only if the proxies answer the kubelet on the moved status and health ports, and
// each proxy's own Prometheus stats are on the moved Prometheus port.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Pod } from '@minimesh/api/kube'
import { type Meshd, startMeshd } from '@minimesh/control-plane'
import {
  createWebhookServer,
  generateCertificates,
  type WebhookServer,
  webhookConfigurations,
} from '@minimesh/injector'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalCluster } from '../cluster.ts'
import { checkoutRoot, defaultImageTable } from '../images.ts'
import { silentLogger } from '../log.ts'
import { canRunNetns } from '../testdata/host-snapshot.ts'
import { standInImages } from '../testdata/stand-ins.ts'
import { MESHD_SERVICE, meshdServiceAt } from '../testdata/webhook.ts'

/** Every port the injector may choose, off its default (@minimesh/api/ports). */
const PORTS = {
  outboundCapturePort: 16001,
  inboundCapturePort: 16006,
  statusPort: 16020,
  healthPort: 16021,
  promPort: 16090,
}

/** The proxy's SO_ORIGINAL_DST addon: without it a captured connection cannot be routed. */
const ADDON = join(checkoutRoot(), 'packages/proxy/build/Release/original_dst.node')

function whySkip(): string | undefined {
  const netns = canRunNetns()
  if (netns) return netns
  if (!existsSync(ADDON)) return 'the SO_ORIGINAL_DST addon is not built (make native)'
  return undefined
}
const skip = whySkip()

const FETCH = fileURLToPath(new URL('../testdata/fetch.ts', import.meta.url))

const deployment = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'mesh' },
  spec: {
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name, version: 'v1' } },
      spec: {
        containers: [
          {
            name,
            image: 'test/echo',
            ports: [{ containerPort: 8080 }],
            // Rewritten by the injector to the proxy's status port.
            readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 1 },
            ...extra,
          },
        ],
      },
    },
  },
})

describe.skipIf(skip)(
  skip
    ? `injection with non-default sidecar ports (skipped: ${skip})`
    : 'injection with non-default sidecar ports: a real meshd, mesh-init and mesh-proxy',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'mm-ports-'))
    let server: WebhookServer
    let cluster: LocalCluster
    let meshd: Meshd

    beforeAll(async () => {
      const certs = await generateCertificates()
      writeFileSync(join(dir, 'tls.crt'), certs.cert)
      writeFileSync(join(dir, 'tls.key'), certs.key)
      cluster = await LocalCluster.start({
        runDir: join(dir, 'run'),
        bridge: 'mmt21br',
        podCidr: '198.18.221.0/24',
        serviceCidr: '198.19.221.0/24',
        images: [...standInImages(), ...defaultImageTable()],
        maxGraceSeconds: 2,
        logger: silentLogger(),
      })
      // meshd in this process, watching the cluster's state directory, as `meshctl local` runs it.
      meshd = await startMeshd({
        configDir: cluster.stateDir,
        grpcAddress: `${cluster.hostIp}:0`,
        monitoringAddress: '127.0.0.1:0',
        processMetrics: false,
        statusWriter: false,
        logger: silentLogger(),
      })
      server = createWebhookServer({
        certFile: join(dir, 'tls.crt'),
        keyFile: join(dir, 'tls.key'),
        config: { discoveryAddress: meshd.addresses.grpc, ...PORTS },
        logger: silentLogger(),
      })
      const addr = await server.listen(0, '127.0.0.1')
      const { mutating } = webhookConfigurations({
        caBundle: certs.caCert,
        service: MESHD_SERVICE,
      })
      await cluster.apply([
        ...meshdServiceAt(addr.port),
        mutating,
        {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: 'mesh', labels: { 'minimesh-injection': 'enabled' } },
        },
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'echo', namespace: 'mesh' },
          spec: { selector: { app: 'echo' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
        },
        deployment('echo'),
        deployment('client'),
      ])
    }, 60_000)

    afterAll(async () => {
      await cluster?.down().catch(() => {})
      await meshd?.close()
      await server?.close()
      rmSync(dir, { recursive: true, force: true })
    })

    const podOf = (app: string) => cluster.get('pods', 'mesh', undefined, `app=${app}`)[0] as Pod

    it('is ready: the proxies answer their readiness and the app probes on the moved health and status ports', async () => {
      await cluster.waitReady({ namespace: 'mesh', timeoutMs: 120_000 })
      const echo = podOf('echo')
      expect(echo.spec.containers.find((c) => c.name === 'echo')!.readinessProbe!.httpGet).toMatchObject({
        path: '/app-health/echo/readyz',
        port: 16020,
      })
    }, 130_000)

    it('injects the chosen ports into both ends: mesh-init redirects where mesh-proxy is told to bind', () => {
      const pod = podOf('echo')
      const init = pod.spec.initContainers!.find((c) => c.name === 'mesh-init')!
      expect(init.args).toEqual(
        expect.arrayContaining(['-p', '16001', '-z', '16006', '-d', '16090,16021,16020']),
      )
      const proxy = pod.spec.containers.find((c) => c.name === 'mesh-proxy')!
      expect(proxy.args).toEqual(
        expect.arrayContaining([
          '--outbound-port',
          '16001',
          '--inbound-port',
          '16006',
          '--prom-port',
          '16090',
        ]),
      )
    })

    it("a client pod's request to a Service goes through both sidecars on their capture ports", async () => {
      const client = podOf('client')
      const echo = podOf('echo')
      // The client's app: its outbound connection is redirected to its sidecar (16001), which
      // routes it to the echo pod, whose iptables hand it to that pod's sidecar (16006).
      const r = await cluster.exec(
        'mesh',
        client.metadata.name!,
        [process.execPath, FETCH, 'http://echo.mesh.svc.cluster.local/who'],
        { container: 'client', timeoutMs: 30_000 },
      )
      expect(r.stderr).toBe('')
      const res = JSON.parse(r.stdout) as { status: number; body: string }
      expect(res.status).toBe(200)
      expect((JSON.parse(res.body) as { hostname: string }).hostname).toBe(echo.metadata.name)
      // Each sidecar counted it, on its own Prometheus port (16090): the client's as the source, the
      // server's as the destination.
      const stats = async (pod: Pod) => {
        const m = await fetch(`http://${pod.status!.podIP}:16090/stats/prometheus`)
        expect(m.status).toBe(200)
        return m.text()
      }
      const series = (reporter: string) =>
        new RegExp(
          `minimesh_requests_total\\{reporter="${reporter}",source_workload="client",[^}]*destination_service="echo.mesh.svc.cluster.local",[^}]*response_code="200"[^}]*\\} [1-9]`,
        )
      expect(await stats(client)).toMatch(series('source'))
      expect(await stats(echo)).toMatch(series('destination'))
    }, 60_000)
  },
)
