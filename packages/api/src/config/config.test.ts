import { describe, expect, it } from 'vitest'
import { ApiErrorCode } from '../errors.ts'
import { formatPath } from '../schema/index.ts'
import { resourceName, TYPE_ORDER, TypeUrl, validateProxyResource } from './index.ts'

const cluster = {
  name: 'outbound|9080|v1|reviews.default.svc.cluster.local',
  type: 'EDS',
  protocol: 'http',
  lbPolicy: 'ROUND_ROBIN',
  connectTimeoutMs: 10_000,
  circuitBreakers: { maxConnections: 1, maxPendingRequests: 1 },
}
const routes = {
  name: '9080',
  virtualHosts: [
    {
      name: 'reviews.default.svc.cluster.local:9080',
      domains: ['reviews', 'reviews:9080'],
      routes: [
        {
          match: { headers: [{ name: 'end-user', match: { exact: 'jason' } }] },
          route: { clusters: [{ name: cluster.name, weight: 1 }], timeoutMs: 500 },
        },
      ],
    },
  ],
}

describe('proxy configuration model', () => {
  it('accepts well-formed resources', () => {
    expect(validateProxyResource(TypeUrl.Cluster, cluster)).toEqual([])
    expect(validateProxyResource(TypeUrl.RouteConfiguration, routes)).toEqual([])
    expect(resourceName(TypeUrl.Cluster, cluster)).toBe(cluster.name)
    expect(resourceName(TypeUrl.ClusterLoadAssignment, { clusterName: 'x', endpoints: [] })).toBe('x')
  })

  it('reports problems with paths (what a proxy NACKs with)', () => {
    const issues = validateProxyResource(TypeUrl.Cluster, { ...cluster, lbPolicy: 'MAGLEV', extra: 1 })
    expect(issues.map((i) => [formatPath(i.path), i.code])).toEqual([
      ['lbPolicy', ApiErrorCode.Enum],
      ['extra', ApiErrorCode.UnknownField],
    ])
    const bad = structuredClone(routes)
    bad.virtualHosts[0]!.routes[0]!.route.clusters = []
    expect(validateProxyResource(TypeUrl.RouteConfiguration, bad).map((i) => formatPath(i.path))).toEqual([
      'virtualHosts[0].routes[0].route.clusters',
    ])
    expect(validateProxyResource('type.example/Nope', {})[0]?.code).toBe('MESH_ERR_API_KIND')
  })

  it('applies clusters and endpoints before listeners and routes', () => {
    expect(TYPE_ORDER).toEqual([
      TypeUrl.Cluster,
      TypeUrl.ClusterLoadAssignment,
      TypeUrl.Listener,
      TypeUrl.RouteConfiguration,
    ])
  })
})
