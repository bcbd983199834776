// A sidecar's configuration shaped like the control plane's (Istio names): virtualOutbound with a
// passthrough default, `0.0.0.0_<port>` HTTP listeners, a `<ip>_<port>` TCP listener, and
// virtualInbound with one chain per inbound port.
import type { Cluster, Listener, RouteConfiguration } from '@minimesh/api'
import type { StaticConfig } from '../config/validate.ts'

// Loopback addresses stand in for ClusterIPs and the pod IP, so a test that goes wrong (a
// passthrough to the "service address") still never leaves the machine.
export const REVIEWS_IP = '127.0.0.10'
export const DB_IP = '127.0.0.50'
export const POD_IP = '127.0.0.5'

export interface SidecarPorts {
  /** Where outbound|9080||reviews endpoints are (an app, or a server-side proxy). */
  reviews: { address: string; port: number }[]
  /** A TCP service behind 198.19.0.50:3306. */
  db: number
  /** The local app behind inbound 9080. */
  app: number
  /** Extra `0.0.0.0_<port>` HTTP listeners (sniffing tests). */
  httpPorts?: number[]
}

export function sidecarConfig(p: SidecarPorts): StaticConfig {
  const reviews = 'outbound|9080||reviews.default.svc.cluster.local'
  const db = 'outbound|3306||db.default.svc.cluster.local'
  const listeners: Listener[] = [
    {
      name: 'virtualOutbound',
      trafficDirection: 'OUTBOUND',
      address: '0.0.0.0',
      port: 15001,
      bindToPort: true,
      filterChains: [],
      defaultFilterChain: { name: 'PassthroughFilterChain', tcp: { cluster: 'PassthroughCluster' } },
    },
    ...[9080, ...(p.httpPorts ?? [])].map(
      (port): Listener => ({
        name: `0.0.0.0_${port}`,
        trafficDirection: 'OUTBOUND',
        address: '0.0.0.0',
        port,
        bindToPort: false,
        filterChains: [{ name: 'http', http: { routeConfigName: String(port) } }],
      }),
    ),
    {
      name: `${DB_IP}_3306`,
      trafficDirection: 'OUTBOUND',
      address: DB_IP,
      port: 3306,
      bindToPort: false,
      filterChains: [{ name: 'tcp', tcp: { cluster: db } }],
    },
    {
      name: 'virtualInbound',
      trafficDirection: 'INBOUND',
      address: '0.0.0.0',
      port: 15006,
      bindToPort: true,
      filterChains: [
        { name: 'inbound|9080', match: { destinationPort: 9080 }, http: { cluster: 'inbound|9080||' } },
      ],
      defaultFilterChain: { name: 'InboundPassthrough', tcp: { cluster: 'InboundPassthroughCluster' } },
    },
  ]
  const allowAny = {
    name: 'allow_any',
    domains: ['*'],
    routes: [
      { name: 'allow_any', match: {}, route: { clusters: [{ name: 'PassthroughCluster', weight: 1 }] } },
    ],
  }
  const routes: RouteConfiguration[] = [
    {
      name: '9080',
      virtualHosts: [
        {
          name: 'reviews.default.svc.cluster.local:9080',
          domains: [
            'reviews',
            'reviews:9080',
            'reviews.default.svc.cluster.local',
            REVIEWS_IP,
            `${REVIEWS_IP}:9080`,
          ],
          routes: [
            {
              name: 'default',
              match: { path: { prefix: '/' } },
              route: { clusters: [{ name: reviews, weight: 1 }] },
            },
          ],
        },
        allowAny,
      ],
    },
    ...(p.httpPorts ?? []).map((port) => ({ name: String(port), virtualHosts: [allowAny] })),
  ]
  const clusters: Cluster[] = [
    {
      name: reviews,
      type: 'EDS',
      protocol: 'http',
      lbPolicy: 'ROUND_ROBIN',
      connectTimeoutMs: 1000,
      service: {
        host: 'reviews.default.svc.cluster.local',
        name: 'reviews',
        namespace: 'default',
        port: 9080,
      },
    },
    { name: db, type: 'EDS', protocol: 'tcp', lbPolicy: 'ROUND_ROBIN', connectTimeoutMs: 1000 },
    {
      name: 'inbound|9080||',
      type: 'STATIC',
      protocol: 'http',
      lbPolicy: 'ROUND_ROBIN',
      connectTimeoutMs: 1000,
      loadAssignment: {
        clusterName: 'inbound|9080||',
        endpoints: [{ address: '127.0.0.1', port: p.app, health: 'HEALTHY' }],
      },
    },
  ]
  return {
    listeners,
    routes,
    clusters,
    endpoints: [
      {
        clusterName: reviews,
        endpoints: p.reviews.map((r) => ({
          ...r,
          health: 'HEALTHY' as const,
          labels: { app: 'reviews', version: 'v2' },
          workload: 'reviews-v2',
        })),
      },
      { clusterName: db, endpoints: [{ address: '127.0.0.1', port: p.db, health: 'HEALTHY' }] },
    ],
  }
}
