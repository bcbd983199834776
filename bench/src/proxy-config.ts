// Static configurations for the proxy benchmark: a plain gateway in front of one upstream, the
// two halves of a client-sidecar → server-sidecar chain, and Bookinfo's configuration (ingress
// gateway routes plus every Bookinfo service, subset cluster and endpoint) for the memory figure.
import type { Cluster, ClusterLoadAssignment, Listener, RouteConfiguration, VirtualHost } from '@minimesh/api'
import type { StaticConfig } from '@minimesh/proxy'

const LOOPBACK = '127.0.0.1'

function staticCluster(name: string, port: number, extra: Partial<Cluster> = {}): Cluster {
  return {
    name,
    type: 'STATIC',
    protocol: 'http',
    lbPolicy: 'ROUND_ROBIN',
    connectTimeoutMs: 1000,
    loadAssignment: { clusterName: name, endpoints: [{ address: LOOPBACK, port, health: 'HEALTHY' }] },
    ...extra,
  }
}

const DEFAULT_RETRY = { attempts: 2, retryOn: ['connect-failure', 'refused-stream', 'reset'] }

/** A bound HTTP listener (`direction`) whose one route sends everything to `cluster`. */
function front(
  name: string,
  direction: Listener['trafficDirection'],
  port: number,
  cluster: string,
): StaticConfig {
  return {
    listeners: [
      {
        name,
        trafficDirection: direction,
        address: LOOPBACK,
        port,
        bindToPort: true,
        filterChains: [{ name: 'http', http: { routeConfigName: 'front' } }],
      },
    ],
    routes: [
      {
        name: 'front',
        virtualHosts: [
          {
            name: 'all',
            domains: ['*'],
            routes: [
              {
                name: 'default',
                match: { path: { prefix: '/' } },
                route: { clusters: [{ name: cluster, weight: 1 }], retry: DEFAULT_RETRY },
              },
            ],
          },
        ],
      },
    ],
  }
}

/** The ingress gateway shape: listener on `port`, default route (with Istio's default retries) to the upstream. */
export function gatewayBench(port: number, upstreamPort: number): StaticConfig {
  return {
    ...front('0.0.0.0_8080', 'GATEWAY', port, 'upstream'),
    clusters: [staticCluster('upstream', upstreamPort)],
    endpoints: [],
  }
}

/** Client sidecar: outbound listener on `port` → the server sidecar on `serverPort`. */
export function clientSidecar(port: number, serverPort: number): StaticConfig {
  const name = 'outbound|9080||upstream.default.svc.cluster.local'
  return {
    ...front(`${LOOPBACK}_${port}`, 'OUTBOUND', port, name),
    clusters: [
      {
        name,
        type: 'EDS',
        protocol: 'http',
        lbPolicy: 'ROUND_ROBIN',
        connectTimeoutMs: 1000,
        service: {
          host: 'upstream.default.svc.cluster.local',
          name: 'upstream',
          namespace: 'default',
          port: 9080,
        },
      },
    ],
    endpoints: [
      {
        clusterName: name,
        endpoints: [
          {
            address: LOOPBACK,
            port: serverPort,
            health: 'HEALTHY',
            labels: { app: 'upstream', version: 'v1' },
            workload: 'upstream-v1',
          },
        ],
      },
    ],
  }
}

/** Server sidecar: inbound listener on `port` → the app (`inbound|9080||`) on `appPort`. */
export function serverSidecar(port: number, appPort: number): StaticConfig {
  return {
    listeners: [
      {
        name: 'inbound_bench',
        trafficDirection: 'INBOUND',
        address: LOOPBACK,
        port,
        bindToPort: true,
        filterChains: [{ name: 'inbound|9080', http: { cluster: 'inbound|9080||' } }],
      },
    ],
    routes: [],
    clusters: [staticCluster('inbound|9080||', appPort)],
    endpoints: [],
  }
}

const BOOKINFO: [string, string[]][] = [
  ['productpage', ['v1']],
  ['details', ['v1']],
  ['reviews', ['v1', 'v2', 'v3']],
  ['ratings', ['v1']],
]

/** Bookinfo as the ingress gateway sees it; productpage's endpoints are the benchmark upstream. */
export function bookinfoGateway(upstreamPort: number): StaticConfig {
  const clusters: Cluster[] = []
  const endpoints: ClusterLoadAssignment[] = []
  const vhosts: VirtualHost[] = []
  BOOKINFO.forEach(([svc, versions], i) => {
    const fqdn = `${svc}.default.svc.cluster.local`
    const ip = `198.19.0.${10 + i}`
    const eps = versions.map((v, j) => ({
      address: svc === 'productpage' ? LOOPBACK : `198.18.0.${20 + i * 4 + j}`,
      port: svc === 'productpage' ? upstreamPort : 9080,
      health: 'HEALTHY' as const,
      labels: { app: svc, version: v },
      workload: `${svc}-${v}`,
    }))
    for (const subset of ['', ...versions]) {
      const name = `outbound|9080|${subset}|${fqdn}`
      clusters.push({
        name,
        type: 'EDS',
        protocol: 'http',
        lbPolicy: 'ROUND_ROBIN',
        connectTimeoutMs: 10_000,
        service: { host: fqdn, name: svc, namespace: 'default', port: 9080, ...(subset ? { subset } : {}) },
      })
      endpoints.push({
        clusterName: name,
        endpoints: subset ? eps.filter((e) => e.labels.version === subset) : eps,
      })
    }
    vhosts.push({
      name: `${fqdn}:9080`,
      domains: [
        svc,
        `${svc}:9080`,
        `${svc}.default`,
        `${svc}.default:9080`,
        `${svc}.default.svc`,
        fqdn,
        `${fqdn}:9080`,
        ip,
        `${ip}:9080`,
      ],
      routes: [
        {
          name: 'default',
          match: { path: { prefix: '/' } },
          route: {
            clusters:
              svc === 'reviews'
                ? versions.map((v) => ({ name: `outbound|9080|${v}|${fqdn}`, weight: 1 }))
                : [{ name: `outbound|9080||${fqdn}`, weight: 1 }],
            retry: DEFAULT_RETRY,
          },
        },
      ],
    })
  })
  const pp = 'outbound|9080||productpage.default.svc.cluster.local'
  const gatewayRoutes: RouteConfiguration = {
    name: 'http.8080',
    virtualHosts: [
      {
        name: '*:8080',
        domains: ['*'],
        routes: [
          ...[
            { exact: '/productpage' },
            { prefix: '/static' },
            { exact: '/login' },
            { exact: '/logout' },
            { prefix: '/api/v1/products' },
          ].map((path) => ({
            name: 'default/bookinfo',
            match: { path, port: 8080 },
            route: { clusters: [{ name: pp, weight: 1 }], retry: DEFAULT_RETRY },
          })),
          {
            name: 'default/bench',
            match: { path: { prefix: '/' } },
            route: { clusters: [{ name: pp, weight: 1 }], retry: DEFAULT_RETRY },
          },
        ],
      },
    ],
  }
  return {
    listeners: [
      {
        name: '0.0.0.0_8080',
        trafficDirection: 'GATEWAY',
        address: LOOPBACK,
        port: 8080,
        bindToPort: true,
        filterChains: [{ name: 'http', http: { routeConfigName: 'http.8080' } }],
      },
    ],
    routes: [gatewayRoutes, { name: '9080', virtualHosts: vhosts }],
    clusters,
    endpoints,
  }
}

/**
 * A sidecar pair for the mTLS benchmark. Client: outbound listener on `port` → the server sidecar
 * at `serverPort`, an endpoint with the sidecar (`tlsMode: istio` when `mtls`: auto mTLS) and the
 * service account `upstream`. Server: virtualInbound on `port` (its original destination is
 * 9080), PeerAuthentication STRICT when `mtls`, → the app at `appPort`.
 */
export function meshClientSidecar(port: number, serverPort: number, mtls: boolean): StaticConfig {
  const config = clientSidecar(port, serverPort)
  const ep = config.endpoints![0]!.endpoints[0]!
  Object.assign(ep, {
    namespace: 'default',
    serviceAccount: 'upstream',
    ...(mtls ? { tlsMode: 'istio' } : {}),
  })
  return config
}

export function meshServerSidecar(port: number, appPort: number, mtls: boolean): StaticConfig {
  const mode = mtls ? { mtls: { mode: 'STRICT' as const } } : {}
  return {
    listeners: [
      {
        name: 'virtualInbound',
        trafficDirection: 'INBOUND',
        address: LOOPBACK,
        port,
        bindToPort: true,
        filterChains: [
          {
            name: '0.0.0.0_9080',
            match: { destinationPort: 9080 },
            http: { cluster: 'inbound|9080||' },
            ...mode,
          },
        ],
        defaultFilterChain: {
          name: 'InboundPassthroughCluster',
          tcp: { cluster: 'InboundPassthroughCluster' },
          ...mode,
        },
      },
    ],
    routes: [],
    clusters: [staticCluster('inbound|9080||', appPort)],
    endpoints: [],
  }
}
