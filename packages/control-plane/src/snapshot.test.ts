import type { KubeObject } from '@minimesh/api/kube'
import { describe, expect, it } from 'vitest'
import { SnapshotBuilder } from './snapshot.ts'
import { ConfigStore } from './store.ts'
import { fixtureStore, PLATFORM } from './testdata/fixtures.ts'

const vs = (
  name: string,
  spec: Record<string, unknown>,
  extra: Partial<KubeObject['metadata']> = {},
): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name, namespace: 'default', ...extra },
  spec,
})
const route = (subset?: string) => ({
  hosts: ['reviews'],
  http: [{ route: [{ destination: { host: 'reviews', ...(subset ? { subset } : {}) } }] }],
})

describe('SnapshotBuilder', () => {
  it('rejects a bad new version and keeps serving the last good one, per object', () => {
    const store = fixtureStore([...PLATFORM, 'destination-rule-all.yaml'])
    const builder = new SnapshotBuilder()
    store.upsert(vs('reviews', route('v1')), 'test')
    store.upsert(
      vs('ratings', { hosts: ['ratings'], http: [{ route: [{ destination: { host: 'ratings' } }] }] }),
      'test',
    )
    const s1 = builder.build(store)
    expect(s1.virtualServices.map((v) => v.metadata.name)).toEqual(['bookinfo', 'ratings', 'reviews'])

    // A bad reviews: unknown field. ratings changes fine at the same time.
    store.upsert(vs('reviews', { ...route('v2'), retriez: {} }), 'test')
    store.upsert(
      vs('ratings', {
        hosts: ['ratings'],
        http: [{ route: [{ destination: { host: 'ratings', subset: 'v1' } }] }],
      }),
      'test',
    )
    const s2 = builder.build(store)
    const reviews = s2.virtualServices.find((v) => v.metadata.name === 'reviews')!
    expect(reviews.spec.http?.[0]?.route?.[0]?.destination.subset).toBe('v1')
    const ratings = s2.virtualServices.find((v) => v.metadata.name === 'ratings')!
    expect(ratings.spec.http?.[0]?.route?.[0]?.destination.subset).toBe('v1')
    const status = s2.status.find((s) => s.key === 'networking.istio.io/VirtualService/default/reviews')!
    expect(status.state).toBe('rejected')
    expect(status.servingPrevious).toBe(true)
    expect(status.findings.map((f) => `${f.path}: ${f.code}`)).toEqual([
      'spec.retriez: MESH_ERR_API_UNKNOWN_FIELD',
    ])

    // Fixed again: the new version serves.
    store.upsert(vs('reviews', route('v2')), 'test')
    const s3 = builder.build(store)
    expect(
      s3.virtualServices.find((v) => v.metadata.name === 'reviews')!.spec.http?.[0]?.route?.[0]?.destination
        .subset,
    ).toBe('v2')
    expect(s3.status.every((s) => s.state !== 'rejected')).toBe(true)
  })

  it('does not serve a bad object that never had a good version', () => {
    const store = fixtureStore(PLATFORM)
    store.upsert(
      vs('reviews', {
        hosts: ['reviews'],
        http: [{ route: [{ destination: { host: 'reviews' }, weight: -1 }] }],
      }),
      'test',
    )
    const s = new SnapshotBuilder().build(store)
    expect(s.virtualServices.map((v) => v.metadata.name)).toEqual(['bookinfo'])
    const st = s.status.find((x) => x.name === 'reviews' && x.kind === 'VirtualService')!
    expect(st).toMatchObject({ state: 'rejected', servingPrevious: false })
  })

  it('rejects on analysis errors (a subset no DestinationRule defines) until the rule arrives', () => {
    const store = fixtureStore(PLATFORM)
    const builder = new SnapshotBuilder()
    store.upsert(vs('reviews', route('v2')), 'test')
    const s1 = builder.build(store)
    const st = s1.status.find((x) => x.key === 'networking.istio.io/VirtualService/default/reviews')!
    expect(st.state).toBe('rejected')
    expect(st.findings.map((f) => f.code)).toContain('MESH_ERR_API_UNKNOWN_SUBSET')
    fixtureStore(['destination-rule-all.yaml'], store)
    const s2 = builder.build(store)
    expect(s2.status.find((x) => x.key === st.key)!.state).toBe('accepted')
    expect(s2.virtualServices.map((v) => v.metadata.name)).toContain('reviews')
  })

  it('orders resources oldest first (creationTimestamp, then namespace/name) and gives objects without a namespace `default`', () => {
    const store = new ConfigStore()
    store.upsert(vs('b', route(), { creationTimestamp: '2025-01-01T00:00:00Z' }), 'x')
    store.upsert(vs('a', route(), { creationTimestamp: '2025-01-02T00:00:00Z' }), 'x')
    store.upsert({ ...vs('c', route()), metadata: { name: 'c' } }, 'x')
    const s = new SnapshotBuilder().build(store)
    expect(s.virtualServices.map((v) => `${v.metadata.namespace}/${v.metadata.name}`)).toEqual([
      'default/c',
      'default/b',
      'default/a',
    ])
  })

  it('lists kinds it does not read as ignored and Istio kinds it does not implement as rejected', () => {
    const store = new ConfigStore()
    store.upsert(
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'default' } },
      'x',
    )
    store.upsert(
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'ServiceEntry',
        metadata: { name: 'e', namespace: 'default' },
        spec: {},
      },
      'x',
    )
    const s = new SnapshotBuilder().build(store)
    expect(s.status.map((x) => [x.kind, x.state])).toEqual([
      ['Deployment', 'ignored'],
      ['ServiceEntry', 'rejected'],
    ])
  })
})
