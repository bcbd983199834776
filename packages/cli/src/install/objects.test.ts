import { describe, expect, it } from 'vitest'
import { InstallError } from './errors.ts'
import { appContainer, parseObjects, proxiesSynced } from './objects.ts'

describe('parseObjects', () => {
  it('splits documents, flattens Lists, puts namespaced objects in the namespace', () => {
    const objs = parseObjects(
      [
        'apiVersion: v1\nkind: Service\nmetadata: {name: reviews}',
        '',
        'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ServiceAccount\n  metadata: {name: bookinfo-reviews}',
        'apiVersion: v1\nkind: Namespace\nmetadata: {name: other}',
        'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r, namespace: kept}',
      ].join('\n---\n'),
      { namespace: 'default' },
    )
    expect(objs.map((o) => [o.kind, o.metadata.name, o.metadata.namespace])).toEqual([
      ['Service', 'reviews', 'default'],
      ['ServiceAccount', 'bookinfo-reviews', 'default'],
      ['Namespace', 'other', undefined],
      ['VirtualService', 'r', 'kept'],
    ])
  })
  it('names the document that is broken', () => {
    expect(() => parseObjects('a: [', { source: 'x.yaml' })).toThrow(/^x\.yaml: document 1: /)
    expect(() => parseObjects('apiVersion: v1\nkind: Service\n---\nfoo: 1', { source: 'x.yaml' })).toThrow(
      InstallError,
    )
    expect(() => parseObjects('foo: 1', { source: 'x.yaml' })).toThrow(
      'x.yaml: document 1: not a Kubernetes object',
    )
  })
})

describe('appContainer', () => {
  it("prefers kubectl's default-container annotation, else the first container that is not the proxy", () => {
    expect(
      appContainer({
        metadata: { annotations: { 'kubectl.kubernetes.io/default-container': 'reviews' } },
        spec: { containers: [{ name: 'mesh-proxy' }, { name: 'reviews' }] },
      }),
    ).toBe('reviews')
    expect(appContainer({ spec: { containers: [{ name: 'mesh-proxy' }, { name: 'ratings' }] } })).toBe(
      'ratings',
    )
    expect(() => appContainer({ spec: { containers: [] } })).toThrow(/no containers/)
  })
})

describe('proxiesSynced (meshd /debug/syncz)', () => {
  const entry = (proxy: string, s: Record<string, unknown>) => ({
    proxy,
    types: { lds: { sent: 'v2', acked: 'v2', synced: true, inflight: false, pending: false }, rds: s },
  })
  it('is done only with proxies connected and every type ACKed', () => {
    expect(proxiesSynced([]).done).toBe(false)
    expect(proxiesSynced({}).done).toBe(false)
    expect(
      proxiesSynced([entry('a', { sent: 'v3', acked: 'v3', synced: true, inflight: false, pending: false })]),
    ).toEqual({
      done: true,
      message: '1 proxies have ACKed the newest config',
    })
    const behind = proxiesSynced([
      entry('a', {
        sent: 'v3',
        acked: 'v2',
        synced: false,
        inflight: true,
        pending: false,
        lastNack: { message: 'bad route' },
      }),
    ])
    expect(behind.done).toBe(false)
    expect(behind.message).toContain('a rds sent v3 acked v2, NACK: bad route')
    expect(
      proxiesSynced([entry('a', { sent: 'v3', acked: 'v3', synced: true, inflight: false, pending: true })])
        .done,
    ).toBe(false)
  })

  it('with a snapshot version, waits for proxies whose configuration comes from an older snapshot', () => {
    const synced = { sent: 'v3', acked: 'v3', synced: true, inflight: false, pending: false }
    const at = (snapshot: number | null) => [{ ...entry('a', synced), snapshot }]
    expect(proxiesSynced(at(7), 7).done).toBe(true)
    expect(proxiesSynced(at(8), 7).done).toBe(true)
    const queued = proxiesSynced(at(6), 7)
    expect(queued.done).toBe(false)
    expect(queued.message).toContain('a not yet generated from snapshot 7 (at 6)')
    expect(proxiesSynced(at(null), 7).done).toBe(false)
    expect(proxiesSynced(at(6)).done).toBe(true)
  })
})
