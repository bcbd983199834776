import { formatNodeId, TypeUrl } from '@minimesh/api'
import type { KubeObject } from '@minimesh/api/kube'
import { describe, expect, it } from 'vitest'
import { SnapshotBuilder } from '../snapshot.ts'
import { fixtureStore, PLATFORM, PROXIES, sidecar } from '../testdata/fixtures.ts'
import { generate, pushContextOf, translate } from './index.ts'
import { proxyFromNode } from './proxy.ts'

function snapshotWith(files: string[], objects: KubeObject[]) {
  const store = fixtureStore([...PLATFORM, ...files])
  for (const o of objects) store.upsert(o, 'test')
  return new SnapshotBuilder().build(store)
}
const svc = (
  name: string,
  ns: string,
  port: Record<string, unknown>,
  extra: { ip?: string; exportTo?: string; selector?: Record<string, string> } = {},
): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: {
    name,
    namespace: ns,
    ...(extra.exportTo ? { annotations: { 'networking.istio.io/exportTo': extra.exportTo } } : {}),
  },
  spec: { clusterIP: extra.ip ?? '198.19.1.1', ports: [port], selector: extra.selector ?? { app: name } },
})
const vs = (name: string, ns: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name, namespace: ns },
  spec,
})
const routesOf = (config: ReturnType<typeof translate>, port: string, host: string) =>
  config.routes.find((r) => r.name === port)?.virtualHosts.find((v) => v.name.startsWith(`${host}.`))?.routes
const clustersOf = (config: ReturnType<typeof translate>, route: string, host: string) =>
  routesOf(config, route, host)?.map((r) => r.route?.clusters.map((c) => c.name))

const productpage = PROXIES['productpage-sidecar']!
const other = sidecar('tool-0', '198.18.5.5', { app: 'tool' }, 'other')

describe('scoping: a proxy gets what it can reach', () => {
  it('honours a Service exportTo: "." keeps it inside its namespace', () => {
    const s = snapshotWith([], [svc('secret', 'other', { name: 'http', port: 7000 }, { exportTo: '.' })])
    const fromDefault = translate(s, productpage)
    expect(fromDefault.clusters.map((c) => c.name).filter((n) => n.includes('secret'))).toEqual([])
    expect(fromDefault.listeners.map((l) => l.name)).not.toContain('0.0.0.0_7000')
    const fromOther = translate(s, other)
    expect(fromOther.clusters.map((c) => c.name)).toContain('outbound|7000||secret.other.svc.cluster.local')
    expect(fromOther.routes.find((r) => r.name === '7000')!.virtualHosts[0]!.domains.slice(0, 2)).toEqual([
      'secret',
      'secret:7000',
    ])
  })

  it('honours a VirtualService exportTo and resolves short hosts in the resource namespace', () => {
    const s = snapshotWith(
      ['destination-rule-all.yaml'],
      [
        // Short host in namespace `other` means reviews.other, not default's reviews.
        vs('short', 'other', {
          hosts: ['reviews'],
          http: [{ route: [{ destination: { host: 'reviews' } }] }],
        }),
        // FQDN host, visible only in `other`: sidecars in default ignore it.
        vs('private', 'other', {
          hosts: ['ratings.default.svc.cluster.local'],
          exportTo: ['.'],
          http: [{ route: [{ destination: { host: 'ratings.default.svc.cluster.local', subset: 'v1' } }] }],
        }),
      ],
    )
    const fromDefault = translate(s, productpage)
    expect(clustersOf(fromDefault, '9080', 'reviews')).toEqual([
      ['outbound|9080||reviews.default.svc.cluster.local'],
    ])
    expect(clustersOf(fromDefault, '9080', 'ratings')).toEqual([
      ['outbound|9080||ratings.default.svc.cluster.local'],
    ])
    const fromOther = translate(s, other)
    expect(clustersOf(fromOther, '9080', 'ratings')).toEqual([
      ['outbound|9080|v1|ratings.default.svc.cluster.local'],
    ])
  })

  it('uses only mesh-bound VirtualServices in sidecars, gateway-bound ones in routers', () => {
    const s = snapshotWith(
      ['destination-rule-all.yaml'],
      [
        vs('gw-only', 'default', {
          hosts: ['reviews'],
          gateways: ['bookinfo-gateway'],
          http: [{ route: [{ destination: { host: 'reviews', subset: 'v3' } }] }],
        }),
        vs('both', 'default', {
          hosts: ['details'],
          gateways: ['bookinfo-gateway', 'mesh'],
          http: [{ route: [{ destination: { host: 'details', subset: 'v1' } }] }],
        }),
        // Names a gateway in its own namespace: not Bookinfo's.
        vs('elsewhere', 'other', {
          hosts: ['*'],
          gateways: ['bookinfo-gateway'],
          http: [
            {
              match: [{ uri: { prefix: '/other' } }],
              route: [{ destination: { host: 'reviews.default.svc.cluster.local', subset: 'v2' } }],
            },
          ],
        }),
        vs('qualified', 'other', {
          hosts: ['*'],
          gateways: ['default/bookinfo-gateway'],
          http: [
            {
              match: [{ uri: { prefix: '/q' } }],
              route: [{ destination: { host: 'reviews.default.svc.cluster.local', subset: 'v2' } }],
            },
          ],
        }),
      ],
    )
    const pp = translate(s, productpage)
    expect(clustersOf(pp, '9080', 'reviews')).toEqual([['outbound|9080||reviews.default.svc.cluster.local']])
    expect(clustersOf(pp, '9080', 'details')).toEqual([
      ['outbound|9080|v1|details.default.svc.cluster.local'],
    ])
    const gw = translate(s, PROXIES['ingress-router']!)
    const vhosts = gw.routes.find((r) => r.name === 'http.8080')!.virtualHosts
    expect(vhosts.map((v) => v.name)).toEqual([
      'details.default.svc.cluster.local:8080',
      'reviews.default.svc.cluster.local:8080',
      '*:8080',
    ])
    const star = vhosts.find((v) => v.name === '*:8080')!
    expect(star.routes.map((r) => r.name)).toEqual([...Array(5).fill('default/bookinfo'), 'other/qualified'])
  })

  it('gives a sidecar inbound configuration only for the services selecting its own pod', () => {
    const s = snapshotWith(
      [],
      [svc('reviews-admin', 'default', { name: 'tcp-admin', port: 9999 }, { selector: { app: 'ratings' } })],
    )
    const reviews = translate(s, PROXIES['reviews-v2-sidecar']!)
    const inbound = reviews.listeners.find((l) => l.name === 'virtualInbound')!
    expect(inbound.filterChains.map((c) => [c.name, c.match?.destinationPort, c.http?.cluster])).toEqual([
      ['0.0.0.0_9080', 9080, 'inbound|9080||'],
    ])
    expect(reviews.clusters.filter((c) => c.name.startsWith('inbound|')).map((c) => c.name)).toEqual([
      'inbound|9080||',
    ])
    const ratings = translate(
      s,
      sidecar('ratings-v1-f849dd6d-m2bsd', '198.18.0.12', { app: 'ratings', version: 'v1' }),
    )
    const chains = ratings.listeners.find((l) => l.name === 'virtualInbound')!.filterChains
    expect(chains.map((c) => [c.name, c.tcp?.cluster ?? c.http?.cluster])).toEqual([
      ['0.0.0.0_9080', 'inbound|9080||'],
      ['0.0.0.0_9999', 'inbound|9999||'],
    ])
    // The TCP service is reached through its own address listener.
    const tcp = translate(s, productpage).listeners.find((l) => l.name === '198.19.1.1_9999')!
    expect(tcp.filterChains[0]!.tcp?.cluster).toBe('outbound|9999||reviews-admin.default.svc.cluster.local')
  })

  it('sends endpoints only for the clusters it sends, narrowed by subset labels', () => {
    const config = translate(snapshotWith(['destination-rule-all.yaml'], []), productpage)
    const eds = new Set(config.clusters.filter((c) => c.type === 'EDS').map((c) => c.name))
    expect(new Set(config.endpoints.map((e) => e.clusterName))).toEqual(eds)
    const of = (name: string) => config.endpoints.find((e) => e.clusterName === name)!.endpoints
    expect(
      of('outbound|9080|v2|reviews.default.svc.cluster.local').map((e) => [
        e.address,
        e.labels?.version,
        e.workload,
      ]),
    ).toEqual([['198.18.0.14', 'v2', 'reviews-v2']])
    expect(of('outbound|9080||reviews.default.svc.cluster.local').map((e) => e.address)).toEqual([
      '198.18.0.13',
      '198.18.0.14',
      '198.18.0.15',
    ])
    expect(of('outbound|9080|v2|details.default.svc.cluster.local')).toEqual([])
  })

  it("prefers a DestinationRule in the proxy's namespace over the service's", () => {
    const s = snapshotWith(
      ['destination-rule-all.yaml'],
      [
        {
          apiVersion: 'networking.istio.io/v1',
          kind: 'DestinationRule',
          metadata: { name: 'reviews-for-other', namespace: 'other' },
          spec: {
            host: 'reviews.default.svc.cluster.local',
            trafficPolicy: { loadBalancer: { simple: 'RANDOM' } },
            subsets: [{ name: 'blue', labels: { version: 'v3' } }],
          },
        },
      ],
    )
    const fromOther = translate(s, other).clusters.filter((c) =>
      c.name.endsWith('|reviews.default.svc.cluster.local'),
    )
    expect(fromOther.map((c) => [c.name, c.lbPolicy])).toEqual([
      ['outbound|9080|blue|reviews.default.svc.cluster.local', 'RANDOM'],
      ['outbound|9080||reviews.default.svc.cluster.local', 'RANDOM'],
    ])
    const fromDefault = translate(s, productpage).clusters.filter((c) =>
      c.name.endsWith('|reviews.default.svc.cluster.local'),
    )
    expect(fromDefault.map((c) => c.service?.subset ?? '')).toEqual(['v1', 'v2', 'v3', ''])
  })

  it('routes to BlackHoleCluster rather than to a cluster the proxy does not have', () => {
    const s = snapshotWith(
      [],
      [
        vs('reviews', 'default', {
          hosts: ['reviews'],
          http: [{ route: [{ destination: { host: 'nowhere' } }] }],
        }),
      ],
    )
    expect(clustersOf(translate(s, productpage), '9080', 'reviews')).toEqual([['BlackHoleCluster']])
  })

  it('gives a router no listeners when no Gateway selects it', () => {
    const router = proxyFromNode({
      id: formatNodeId('router', '198.18.0.3', 'egress-0', 'minimesh-system'),
      labels: { app: 'egress' },
    })
    const config = translate(snapshotWith([], []), router)
    expect(config.listeners).toEqual([])
    expect(config.routes).toEqual([])
    expect(config.clusters.length).toBeGreaterThan(3)
  })

  it('sends a sidecar its service hosts on their own (VHDS): route configurations keep only the fallback', () => {
    const config = generate(pushContextOf(snapshotWith([], [])), productpage)
    const routes = config[TypeUrl.RouteConfiguration].flatMap((g) => g.items) as {
      name: string
      vhds?: boolean
      virtualHosts: { name: string }[]
    }[]
    expect(routes.map((r) => [r.name, r.vhds, r.virtualHosts.map((v) => v.name)])).toEqual([
      ['9080', true, ['allow_any']],
    ])
    const hosts = config[TypeUrl.VirtualHost].flatMap((g) => g.items) as {
      routeConfiguration: string
      virtualHost: { name: string }
    }[]
    expect(hosts.map((h) => `${h.routeConfiguration}/${h.virtualHost.name}`).sort()).toEqual([
      '9080/details.default.svc.cluster.local:9080',
      '9080/productpage.default.svc.cluster.local:9080',
      '9080/ratings.default.svc.cluster.local:9080',
      '9080/reviews.default.svc.cluster.local:9080',
    ])
    // A gateway's route configurations keep their hosts inline.
    const router = generate(pushContextOf(snapshotWith([], [])), PROXIES['ingress-router']!)
    expect(router[TypeUrl.VirtualHost]).toEqual([])
  })
})
