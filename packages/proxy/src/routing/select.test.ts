import type { RouteConfiguration } from '@minimesh/api'
import { describe, expect, it } from 'vitest'
import type { RequestView } from './match.ts'
import { compileRouteConfig, findRoute, findVirtualHost, pickWeighted } from './select.ts'

const source = { labels: { app: 'productpage' }, namespace: 'default' }
const rc: RouteConfiguration = {
  name: '9080',
  virtualHosts: [
    {
      name: 'reviews.default.svc.cluster.local:9080',
      domains: [
        'reviews',
        'reviews:9080',
        'reviews.default.svc.cluster.local',
        '198.19.0.10',
        '198.19.0.10:9080',
      ],
      routes: [
        {
          name: 'jason',
          match: { headers: [{ name: 'end-user', match: { exact: 'jason' } }] },
          route: { clusters: [{ name: 'v2', weight: 1 }] },
        },
        {
          name: 'reviews-only-v3',
          match: { sourceLabels: { app: 'other' } },
          route: { clusters: [{ name: 'v3', weight: 1 }] },
        },
        {
          name: 'split',
          match: { path: { prefix: '/' } },
          route: {
            clusters: [
              { name: 'v1', weight: 80 },
              { name: 'v3', weight: 20 },
            ],
          },
        },
      ],
    },
    { name: 'wild', domains: ['*.example.com'], routes: [] },
    {
      name: 'allow_any',
      domains: ['*'],
      routes: [{ match: {}, route: { clusters: [{ name: 'PassthroughCluster', weight: 1 }] } }],
    },
  ],
}

function view(headers: Record<string, string> = {}): RequestView {
  return { method: 'GET', path: '/', query: '', authority: 'reviews:9080', headers, port: 9080 }
}

describe('virtual hosts', () => {
  const c = compileRouteConfig(rc, source)
  it('finds by Host (with and without port), by original IP, wildcard, then *', () => {
    expect(findVirtualHost(c, 'reviews:9080')?.name).toBe('reviews.default.svc.cluster.local:9080')
    expect(findVirtualHost(c, 'REVIEWS')?.name).toBe('reviews.default.svc.cluster.local:9080')
    expect(findVirtualHost(c, 'reviews.default.svc.cluster.local:1234')?.name).toBe(
      'reviews.default.svc.cluster.local:9080',
    )
    expect(findVirtualHost(c, '', '198.19.0.10', 9080)?.name).toBe('reviews.default.svc.cluster.local:9080')
    expect(findVirtualHost(c, 'a.example.com')?.name).toBe('wild')
    expect(findVirtualHost(c, 'unknown')?.name).toBe('allow_any')
  })

  it('first matching route wins; routes for other sources are dropped', () => {
    const vh = findVirtualHost(c, 'reviews')!
    expect(vh.routes.map((r) => r.name)).toEqual(['jason', 'split'])
    expect(findRoute(vh, view({ 'end-user': 'jason' }))?.name).toBe('jason')
    expect(findRoute(vh, view())?.name).toBe('split')
  })
})

describe('pickWeighted', () => {
  it('draws by relative weight (chi-square, 1 degree of freedom, p = 0.001)', () => {
    const route = findRoute(findVirtualHost(compileRouteConfig(rc, source), 'reviews')!, view())!
    const n = 20_000
    let v1 = 0
    for (let i = 0; i < n; i++) if (pickWeighted(route)?.name === 'v1') v1++
    const e1 = n * 0.8
    const e3 = n * 0.2
    const chi2 = (v1 - e1) ** 2 / e1 + (n - v1 - e3) ** 2 / e3
    expect(chi2).toBeLessThan(10.83)
  })

  it('uses the random draw against cumulative weights', () => {
    const route = findRoute(findVirtualHost(compileRouteConfig(rc, source), 'reviews')!, view())!
    expect(pickWeighted(route, () => 0.79)?.name).toBe('v1')
    expect(pickWeighted(route, () => 0.81)?.name).toBe('v3')
  })
})
