// Bookinfo's call graph in miniature on real sockets, for the tracing tests (zipkin.test.ts against
// a real Zipkin, otlp.test.ts against a real Jaeger): a gateway and four sidecars, each in front of
// an app that forwards the trace headers as Bookinfo's apps do (productpage → details, reviews;
// reviews → ratings). Each proxy is in-process (startTestProxy) with the tracing options given.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Cluster, Listener, RouteConfiguration } from '@minimesh/api'
import { request } from 'undici'
import type { StaticConfig } from '../config/validate.ts'
import type { RunningProxy } from '../proxy.ts'
import type { TracingOptions } from '../tracing/tracer.ts'
import { gatewayListener, routeConfig, startTestProxy } from './harness.ts'

/** What Bookinfo's apps copy from the request they serve onto the requests they make. */
const PROPAGATED = [
  'x-request-id',
  'traceparent',
  'tracestate',
  'b3',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
]

export const fqdn = (s: string) => `${s}.default.svc.cluster.local`
const outbound = (s: string) => `outbound|9080||${fqdn(s)}`

function service(s: string) {
  return { host: fqdn(s), name: s, namespace: 'default', port: 9080 }
}

/** A sidecar: virtualInbound → the app; an outbound 9080 listener → the named services' inbound ports. */
function sidecarConfig(appPort: number, calls: Record<string, number>, self: string): StaticConfig {
  const listeners: Listener[] = [
    {
      name: 'virtualInbound',
      trafficDirection: 'INBOUND',
      address: '0.0.0.0',
      port: 15006,
      bindToPort: true,
      filterChains: [{ name: 'inbound|9080', http: { cluster: 'inbound|9080||' } }],
    },
  ]
  const clusters: Cluster[] = [
    {
      name: 'inbound|9080||',
      type: 'STATIC',
      protocol: 'http',
      lbPolicy: 'ROUND_ROBIN',
      connectTimeoutMs: 1000,
      loadAssignment: {
        clusterName: 'inbound|9080||',
        endpoints: [{ address: '127.0.0.1', port: appPort, health: 'HEALTHY' }],
      },
      service: service(self),
    },
  ]
  const routes: RouteConfiguration[] = []
  const names = Object.keys(calls)
  if (names.length) {
    listeners.push({
      name: '0.0.0.0_9080',
      trafficDirection: 'OUTBOUND',
      address: '0.0.0.0',
      port: 9080,
      bindToPort: true,
      filterChains: [{ name: 'http', http: { routeConfigName: '9080' } }],
    })
    routes.push({
      name: '9080',
      virtualHosts: names.map((n) => ({
        name: `${fqdn(n)}:9080`,
        domains: [n, `${n}:9080`],
        routes: [
          {
            name: 'default',
            match: { path: { prefix: '/' } },
            route: { clusters: [{ name: outbound(n), weight: 1 }] },
          },
        ],
      })),
    })
    for (const n of names)
      clusters.push({
        name: outbound(n),
        type: 'STATIC',
        protocol: 'http',
        lbPolicy: 'ROUND_ROBIN',
        connectTimeoutMs: 1000,
        loadAssignment: {
          clusterName: outbound(n),
          endpoints: [{ address: '127.0.0.1', port: calls[n]!, health: 'HEALTHY', labels: { app: n } }],
        },
        service: service(n),
      })
  }
  return { listeners, routes, clusters, endpoints: [] }
}

export function gatewayConfig(productpagePort: number, target = 'productpage'): StaticConfig {
  return {
    listeners: [gatewayListener()],
    routes: [
      routeConfig(
        [
          {
            name: target,
            match: { path: { prefix: '/' } },
            route: { clusters: [{ name: outbound(target), weight: 1 }] },
          },
        ],
        'bookinfo',
      ),
    ],
    clusters: [
      {
        name: outbound(target),
        type: 'STATIC',
        protocol: 'http',
        lbPolicy: 'ROUND_ROBIN',
        connectTimeoutMs: 1000,
        loadAssignment: {
          clusterName: outbound(target),
          endpoints: [{ address: '127.0.0.1', port: productpagePort, health: 'HEALTHY' }],
        },
        service: service(target),
      },
    ],
    endpoints: [],
  }
}

export interface App {
  port: number
  /** Trace headers of each request the app served. */
  seen: http.IncomingHttpHeaders[]
  server: http.Server
  /** Where its outbound calls go (its sidecar's outbound port), set once the sidecar is up. */
  outPort: number
}

/** An app that calls `calls` in order through its sidecar, forwarding the trace headers. */
async function startApp(calls: string[]): Promise<App> {
  const app: App = { port: 0, seen: [], server: http.createServer(), outPort: 0 }
  app.server.on('request', async (req: http.IncomingMessage, res: http.ServerResponse) => {
    app.seen.push(req.headers)
    const fwd: Record<string, string> = {}
    for (const h of PROPAGATED) {
      const v = req.headers[h]
      if (typeof v === 'string') fwd[h] = v
    }
    let status = 200
    for (const c of calls) {
      const r = await request(`http://127.0.0.1:${app.outPort}/${c}`, {
        headers: { ...fwd, host: `${c}:9080` },
      })
      await r.body.text()
      if (r.statusCode !== 200) status = 502
    }
    res.writeHead(status, { 'content-type': 'text/plain' }).end('ok')
  })
  await new Promise<void>((r) => app.server.listen(0, '127.0.0.1', r))
  app.port = (app.server.address() as AddressInfo).port
  return app
}

export interface TracedBookinfo {
  gateway: RunningProxy
  gatewayPort: number
  productpage: App
  details: App
  /** The details sidecar's inbound port (a gateway of a test's own can route there). */
  detailsIn: number
  /** GET /productpage through the gateway; fails unless 200. */
  get(headers?: Record<string, string>): Promise<void>
  /** Another in-process proxy to close with the rest. */
  track(p: RunningProxy): void
  close(): Promise<void>
}

/**
 * Starts the apps, their sidecars (`sidecars`' tracing: typically sampling 0, so only the gateway
 * starts traces and its decision travels) and the gateway (`gateway`'s tracing).
 */
export async function startTracedBookinfo(tracing: {
  sidecars: TracingOptions
  gateway: TracingOptions
}): Promise<TracedBookinfo> {
  const proxies: RunningProxy[] = []
  const apps: App[] = []
  async function sidecar(name: string, app: App, calls: Record<string, number>) {
    const p = await startTestProxy(sidecarConfig(app.port, calls, name), {
      identity: {
        workload: name,
        namespace: 'default',
        labels: { app: name, version: 'v1' },
        pod: `${name}-v1-0`,
        ip: '127.0.0.1',
      },
      portMap: { 9080: 0, 15006: 0 },
      tracing: tracing.sidecars,
    })
    proxies.push(p)
    app.outPort = p.ports.listeners['0.0.0.0_9080'] ?? 0
    return p.ports.listeners.virtualInbound!
  }
  const [details, ratings, reviews] = await Promise.all([startApp([]), startApp([]), startApp(['ratings'])])
  const productpage = await startApp(['details', 'reviews'])
  apps.push(details, ratings, reviews, productpage)
  const detailsIn = await sidecar('details', details, {})
  const ratingsIn = await sidecar('ratings', ratings, {})
  const reviewsIn = await sidecar('reviews', reviews, { ratings: ratingsIn })
  const productpageIn = await sidecar('productpage', productpage, { details: detailsIn, reviews: reviewsIn })
  const gateway = await startTestProxy(gatewayConfig(productpageIn), {
    mode: 'router',
    identity: {
      workload: 'minimesh-ingressgateway',
      namespace: 'minimesh-system',
      labels: { app: 'minimesh-ingressgateway' },
      pod: 'gw-0',
      ip: '127.0.0.1',
    },
    tracing: tracing.gateway,
  })
  proxies.push(gateway)
  const gatewayPort = gateway.ports.listeners['0.0.0.0_8080']!
  return {
    gateway,
    gatewayPort,
    productpage,
    details,
    detailsIn,
    async get(headers = {}) {
      const r = await request(`http://127.0.0.1:${gatewayPort}/productpage`, {
        headers: { host: 'bookinfo.example', ...headers },
      })
      await r.body.text()
      if (r.statusCode !== 200) throw new Error(`GET /productpage through the gateway: ${r.statusCode}`)
    },
    track: (p) => void proxies.push(p),
    async close() {
      await Promise.all(proxies.map((p) => p.close()))
      for (const a of apps) {
        a.server.closeAllConnections()
        a.server.close()
      }
    },
  }
}
