import { describe, expect, it } from 'vitest'
import { ApiErrorCode } from '../errors.ts'
import { formatPath } from '../schema/index.ts'
import {
  assembleRouteConfigurations,
  resourceName,
  TYPE_ORDER,
  TypeUrl,
  validateProxyResource,
} from './index.ts'

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

  it('applies clusters and endpoints before listeners and routes, secrets before listeners, and routes before their virtual hosts', () => {
    expect(TYPE_ORDER).toEqual([
      TypeUrl.Cluster,
      TypeUrl.ClusterLoadAssignment,
      TypeUrl.Secret,
      TypeUrl.Listener,
      TypeUrl.RouteConfiguration,
      TypeUrl.VirtualHost,
    ])
  })

  it('names a separately sent virtual host after its route configuration, and checks its shape', () => {
    const vh = { routeConfiguration: '9080', virtualHost: routes.virtualHosts[0]! }
    expect(validateProxyResource(TypeUrl.VirtualHost, vh)).toEqual([])
    expect(resourceName(TypeUrl.VirtualHost, vh)).toBe('9080/reviews.default.svc.cluster.local:9080')
    const issues = validateProxyResource(TypeUrl.VirtualHost, {
      routeConfiguration: '9080',
      virtualHost: { ...vh.virtualHost, domains: [] },
    })
    expect(issues.map((i) => formatPath(i.path))).toEqual(['virtualHost.domains'])
  })

  it('assembles vhds route configurations: sent hosts first, in order, then the fallbacks', () => {
    const any = { name: 'allow_any', domains: ['*'], routes: [] }
    const host = (name: string) => ({ name, domains: [name], routes: [] })
    const assembled = assembleRouteConfigurations(
      [
        { name: '9080', vhds: true, virtualHosts: [any] },
        { name: '80', virtualHosts: [host('inline')] },
      ],
      [
        { routeConfiguration: '9080', virtualHost: host('b') },
        { routeConfiguration: '80', virtualHost: host('ignored: 80 has no vhds') },
        { routeConfiguration: '9080', virtualHost: host('a') },
      ],
    )
    expect(assembled).toEqual([
      { name: '9080', virtualHosts: [host('b'), host('a'), any] },
      { name: '80', virtualHosts: [host('inline')] },
    ])
  })
})
