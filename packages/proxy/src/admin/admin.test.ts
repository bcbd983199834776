// The admin, Prometheus and readiness endpoints of a running proxy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningProxy } from '../proxy.ts'
import {
  call,
  cluster,
  endpoints,
  gatewayConfig,
  gatewayPort,
  startTestProxy,
  startUpstream,
  type Upstream,
} from '../testdata/harness.ts'

describe('admin endpoints', () => {
  let up: Upstream
  let proxy: RunningProxy
  const config = () =>
    gatewayConfig(
      [
        {
          name: 'default/bookinfo',
          match: { path: { prefix: '/' } },
          route: { clusters: [{ name: 'outbound|9080||productpage.default.svc.cluster.local', weight: 1 }] },
        },
      ],
      [
        cluster('outbound|9080||productpage.default.svc.cluster.local', {
          service: {
            host: 'productpage.default.svc.cluster.local',
            name: 'productpage',
            namespace: 'default',
            port: 9080,
          },
        }),
      ],
      [
        endpoints('outbound|9080||productpage.default.svc.cluster.local', [
          { port: up.port, labels: { app: 'productpage', version: 'v1' } },
        ]),
      ],
    )
  const admin = (path: string, init?: RequestInit) =>
    fetch(`http://127.0.0.1:${proxy.ports.admin}${path}`, init)

  beforeAll(async () => {
    up = await startUpstream('productpage')
    proxy = await startTestProxy(config(), {
      identity: { workload: 'gw', namespace: 'minimesh-system', labels: { app: 'gw' } },
    })
    await call(gatewayPort(proxy), '/productpage')
  })
  afterAll(async () => {
    await proxy.close()
    await up.close()
  })

  it('/config_dump shows exactly the configuration it was given', async () => {
    const dump = (await (await admin('/config_dump')).json()) as Record<string, unknown>
    const c = config()
    expect(dump.listeners).toEqual(c.listeners)
    expect(dump.routes).toEqual(c.routes)
    expect(dump.clusters).toEqual(c.clusters)
    expect(dump.endpoints).toEqual(c.endpoints)
    expect((dump.node as { id: string }).id).toContain('~')
  })

  it('/routes and /listeners', async () => {
    const routes = (await (await admin('/routes')).json()) as {
      name: string
      virtualHosts: { routes: { name: string }[] }[]
    }[]
    expect(routes[0]?.name).toBe('http.8080')
    expect(routes[0]?.virtualHosts[0]?.routes[0]?.name).toBe('default/bookinfo')
    const listeners = (await (await admin('/listeners')).json()) as { name: string; boundPort: number }[]
    expect(listeners[0]).toMatchObject({ name: '0.0.0.0_8080', boundPort: gatewayPort(proxy) })
  })

  it('/clusters lists endpoints with health and ejection state', async () => {
    const clusters = (await (await admin('/clusters')).json()) as {
      name: string
      hosts: Record<string, unknown>[]
    }[]
    const c = clusters.find((x) => x.name.startsWith('outbound|9080'))!
    expect(c.hosts[0]).toMatchObject({
      address: '127.0.0.1',
      port: up.port,
      health: 'HEALTHY',
      ejected: false,
      requests: 1,
    })
    expect(clusters.map((x) => x.name)).toContain('PassthroughCluster')
  })

  it('/stats as text and JSON', async () => {
    const text = await (await admin('/stats')).text()
    expect(text).toContain(
      'cluster.outbound|9080||productpage.default.svc.cluster.local.upstream_rq_total: 1',
    )
    const json = (await (await admin('/stats?format=json')).json()) as Record<
      string,
      { upstream_cx_total: number }
    >
    expect(json['outbound|9080||productpage.default.svc.cluster.local']?.upstream_cx_total).toBe(1)
  })

  it('/logging reads and changes the level', async () => {
    expect(await (await admin('/logging')).json()).toEqual({ level: 'silent' })
    expect((await admin('/logging?level=debug')).status).toBe(405)
    expect(await (await admin('/logging?level=debug', { method: 'POST' })).json()).toEqual({ level: 'debug' })
    expect((await admin('/logging?level=loud', { method: 'POST' })).status).toBe(400)
    await admin('/logging?level=silent', { method: 'POST' })
  })

  it('/stats/prometheus has the request metrics with Istio labels', async () => {
    const text = await (await fetch(`http://127.0.0.1:${proxy.ports.stats}/stats/prometheus`)).text()
    expect(text).toContain(
      'minimesh_requests_total{reporter="source",source_workload="gw",source_version="unknown",destination_service="productpage.default.svc.cluster.local",destination_workload="productpage",destination_version="v1",response_code="200",response_flags="-",source_principal="unknown",destination_principal="unknown",connection_security_policy="unknown"} 1',
    )
    expect(text).toContain('# TYPE minimesh_request_duration_milliseconds histogram')
    expect(text).toContain(
      'minimesh_upstream_cx_total{cluster_name="outbound|9080||productpage.default.svc.cluster.local"} 1',
    )
  })

  it("the Prometheus port (Envoy's 15090) serves the same metrics and nothing else", async () => {
    expect(proxy.ports.prometheus).toBeGreaterThan(0)
    expect(proxy.ports.prometheus).not.toBe(proxy.ports.stats)
    const base = `http://127.0.0.1:${proxy.ports.prometheus}`
    const res = await fetch(`${base}/stats/prometheus`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(await res.text()).toContain('minimesh_upstream_cx_total{cluster_name="outbound|9080||productpage')
    // Neither readiness, app probes nor /quitquitquit: those are on the status and health ports.
    expect((await fetch(`${base}/healthz/ready`)).status).toBe(404)
    expect((await fetch(`${base}/quitquitquit`, { method: 'POST' })).status).toBe(404)
  })

  it('is not ready before a configuration arrives', async () => {
    const p = await startTestProxy(undefined, {
      discoveryAddress: '127.0.0.1:1',
      xdsInitialBackoffMs: 10_000,
    })
    const r = await fetch(`http://127.0.0.1:${p.ports.health}/healthz/ready`)
    expect(r.status).toBe(503)
    expect(await r.text()).toBe('waiting for configuration\n')
    await p.close()
    expect((await fetch(`http://127.0.0.1:${proxy.ports.health}/healthz/ready`)).status).toBe(200)
  })
})
