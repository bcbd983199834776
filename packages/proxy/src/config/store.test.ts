import { TypeUrl } from '@minimesh/api'
import { describe, expect, it } from 'vitest'
import { cluster, endpoints, gatewayConfig } from '../testdata/harness.ts'
import { parseStaticConfig } from './file.ts'
import { XdsConfigStore } from './store.ts'

const source = { labels: {}, namespace: 'default' }

describe('XdsConfigStore', () => {
  it('applies a static configuration and keeps an unchanged cluster across updates', async () => {
    const store = new XdsConfigStore(source)
    const cfg = gatewayConfig(
      [{ match: {}, route: { clusters: [{ name: 'c', weight: 1 }] } }],
      [cluster('c')],
      [endpoints('c', [{ port: 1000 }])],
    )
    store.applyStatic(cfg)
    expect(store.ready).toBe(true)
    const c1 = store.current.clusters.get('c')!
    expect(c1.hosts.map((h) => h.port)).toEqual([1000])
    store.apply(TypeUrl.Cluster, cfg.clusters!, 'v2')
    expect(store.current.clusters.get('c')).toBe(c1)
    store.apply(TypeUrl.Cluster, [cluster('c', { lbPolicy: 'RANDOM' })], 'v3')
    expect(store.current.clusters.get('c')).not.toBe(c1)
    expect(store.current.clusters.get('c')!.hosts.map((h) => h.port)).toEqual([1000])
    store.apply(TypeUrl.ClusterLoadAssignment, [endpoints('c', [{ port: 1001 }, { port: 1002 }])], 'v4')
    expect(store.current.clusters.get('c')!.hosts.map((h) => h.port)).toEqual([1001, 1002])
    await store.close()
  })

  it('rejects a bad set whole, naming resource and field, and changes nothing', async () => {
    const store = new XdsConfigStore(source)
    store.applyStatic(gatewayConfig([], [cluster('c')], []))
    const serial = store.current.serial
    expect(() => store.apply(TypeUrl.Cluster, [cluster('c'), cluster('c')], 'v2')).toThrow(
      'Cluster c: duplicate name',
    )
    expect(() =>
      store.apply(
        TypeUrl.Listener,
        [
          {
            name: 'l',
            trafficDirection: 'OUTBOUND',
            address: '0.0.0.0',
            port: 1,
            bindToPort: false,
            filterChains: [{ name: 'x', tcp: { cluster: 'nope' } }],
          },
        ],
        'v2',
      ),
    ).toThrow('Listener l: filterChains[0].tcp.cluster: unknown cluster nope')
    expect(() => store.apply(TypeUrl.Cluster, [{ ...cluster('d'), connectTimeoutMs: -1 }], 'v2')).toThrow(
      /^Cluster d: connectTimeoutMs: /,
    )
    expect(store.current.serial).toBe(serial)
    expect(store.versions[TypeUrl.Cluster]).toBe('static')
    await store.close()
  })
})

describe('parseStaticConfig', () => {
  it('reads a vhds route configuration with its virtual hosts, and routes by them once they are there', async () => {
    const cfg = parseStaticConfig(
      JSON.stringify({
        ...gatewayConfig([], [cluster('c')], [endpoints('c', [{ port: 1000 }])]),
        routes: [{ name: 'http.8080', vhds: true, virtualHosts: [] }],
        virtualHosts: [
          {
            routeConfiguration: 'http.8080',
            virtualHost: {
              name: 'a',
              domains: ['a.test'],
              routes: [{ match: {}, route: { clusters: [{ name: 'c', weight: 1 }] } }],
            },
          },
        ],
      }),
    )
    const store = new XdsConfigStore(source)
    store.apply(TypeUrl.Cluster, cfg.clusters!, 'v1')
    store.apply(TypeUrl.Listener, cfg.listeners!, 'v1')
    store.apply(TypeUrl.RouteConfiguration, cfg.routes!, 'v1')
    // Its hosts have not come yet: not ready.
    expect(store.ready).toBe(false)
    store.applyStatic(cfg)
    expect(store.ready).toBe(true)
    expect(store.current.routes.get('http.8080')!.exact.get('a.test')?.name).toBe('a')
    await store.close()
  })

  it('reads YAML and refuses unknown keys', () => {
    expect(parseStaticConfig('clusters: []\nlisteners: []\n')).toEqual({ clusters: [], listeners: [] })
    expect(() => parseStaticConfig('secrets: []')).toThrow('<config>: unknown key secrets')
    expect(() => parseStaticConfig('clusters: {}')).toThrow('clusters must be an array')
  })
})
