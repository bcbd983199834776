import type { Listener } from '@minimesh/api'
import type { KubeObject } from '@minimesh/api/kube'
import { describe, expect, it } from 'vitest'
import { SnapshotBuilder } from '../snapshot.ts'
import { fixtureStore, PLATFORM, PROXIES, sidecar } from '../testdata/fixtures.ts'
import { compileAuthorizationPolicy } from './authorization.ts'
import { translate } from './index.ts'

const policy = (name: string, ns: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name, namespace: ns },
  spec,
})
const tcpService: KubeObject = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'mongodb', namespace: 'default' },
  spec: { clusterIP: '198.19.2.2', ports: [{ port: 27017, name: 'mongo' }], selector: { app: 'reviews' } },
}

function snapshotWith(objects: KubeObject[]) {
  const store = fixtureStore(PLATFORM)
  for (const o of objects) store.upsert(o, 'test')
  return new SnapshotBuilder().build(store)
}
const inbound = (config: ReturnType<typeof translate>): Listener =>
  config.listeners.find((l) => l.name === 'virtualInbound')!
/** Policy names on every inbound chain (passthrough included), by chain. */
function names(objects: KubeObject[], proxy = PROXIES['reviews-v2-sidecar']!) {
  const snapshot = snapshotWith(objects)
  expect(snapshot.status.filter((s) => s.state === 'rejected')).toEqual([])
  const l = inbound(translate(snapshot, proxy))
  const out: Record<string, string[]> = {}
  for (const c of [...l.filterChains, l.defaultFilterChain!]) {
    const a = c.authorization
    out[c.name] = a
      ? [
          ...(a.deny ?? []).map((p) => `DENY ${p.name}`),
          ...(a.allow ?? []).map((p) => `ALLOW ${p.name}`),
          ...(a.audit ?? []).map((p) => `AUDIT ${p.name}`),
        ]
      : []
  }
  return out
}

const everything = [
  policy('mesh-deny', 'minimesh-system', {
    action: 'DENY',
    rules: [{ from: [{ source: { notNamespaces: ['default', 'foo'] } }] }],
  }),
  policy('mesh-reviews', 'minimesh-system', {
    selector: { matchLabels: { app: 'reviews' } },
    action: 'AUDIT',
    rules: [{}],
  }),
  policy('ns-allow', 'default', { rules: [{}] }),
  policy('reviews-only', 'default', {
    selector: { matchLabels: { app: 'reviews', version: 'v2' } },
    action: 'DENY',
    rules: [{}],
  }),
  policy('ratings-only', 'default', { selector: { matchLabels: { app: 'ratings' } }, rules: [{}] }),
  policy('other-ns', 'foo', { rules: [{}] }),
]

describe('which AuthorizationPolicies a sidecar gets', () => {
  it('mesh (root namespace), namespace and selector level; on every inbound chain, HTTP, TCP and passthrough', () => {
    // Oldest first; without creation times, by namespace/name.
    const want = [
      'DENY default/reviews-only',
      'DENY minimesh-system/mesh-deny',
      'ALLOW default/ns-allow',
      'AUDIT minimesh-system/mesh-reviews',
    ]
    expect(names([tcpService, ...everything])).toEqual({
      '0.0.0.0_9080': want,
      '0.0.0.0_27017': want,
      InboundPassthroughCluster: want,
    })
  })

  it('a workload of another namespace gets the mesh-wide policies and its own namespace', () => {
    const foo = sidecar('sleep-1', '198.18.0.40', { app: 'reviews', version: 'v1' }, 'foo')
    expect(names(everything, foo)).toEqual({
      InboundPassthroughCluster: [
        'DENY minimesh-system/mesh-deny',
        'ALLOW foo/other-ns',
        'AUDIT minimesh-system/mesh-reviews',
      ],
    })
  })

  it('the selector is matched against all the labels; productpage gets only the namespace-wide ones', () => {
    expect(names(everything, PROXIES['productpage-sidecar']!)).toEqual({
      '0.0.0.0_9080': ['DENY minimesh-system/mesh-deny', 'ALLOW default/ns-allow'],
      InboundPassthroughCluster: ['DENY minimesh-system/mesh-deny', 'ALLOW default/ns-allow'],
    })
  })

  it('without policies no chain has authorization (and the router never has any)', () => {
    expect(names([tcpService])).toEqual({
      '0.0.0.0_9080': [],
      '0.0.0.0_27017': [],
      InboundPassthroughCluster: [],
    })
    const router = translate(snapshotWith(everything), PROXIES['ingress-router']!)
    expect(JSON.stringify(router)).not.toContain('authorization')
  })
})

describe('AuthorizationPolicies through the snapshot', () => {
  it('a policy that fails validation is rejected and never reaches a proxy; its last good version keeps serving', () => {
    const store = fixtureStore(PLATFORM)
    const builder = new SnapshotBuilder()
    const good = policy('deny-all', 'default', { action: 'DENY', rules: [{}] })
    store.upsert(good, 'test')
    const first = builder.build(store)
    expect(first.authorizationPolicies.map((p) => p.metadata.name)).toEqual(['deny-all'])
    store.upsert(
      policy('deny-all', 'default', { action: 'CUSTOM', provider: { name: 'ext' }, rules: [{}] }),
      'test',
    )
    store.upsert(
      policy('bad-principal', 'default', { rules: [{ from: [{ source: { principals: ['spiffe://x'] } }] }] }),
      'test',
    )
    const second = builder.build(store)
    const status = second.status.filter((s) => s.kind === 'AuthorizationPolicy')
    expect(status.map((s) => [s.name, s.state, s.servingPrevious ?? null])).toEqual([
      ['bad-principal', 'rejected', false],
      ['deny-all', 'rejected', true],
    ])
    expect(second.authorizationPolicies).toEqual([good])
    const chain = inbound(translate(second, PROXIES['reviews-v2-sidecar']!)).filterChains[0]!
    expect(chain.authorization?.deny?.map((p) => p.name)).toEqual(['default/deny-all'])
    expect(chain.authorization?.allow).toBeUndefined()
  })
})

describe('compileAuthorizationPolicy', () => {
  it('turns every field into a flat match with Istio value forms', () => {
    const p = compileAuthorizationPolicy(
      policy('p', 'default', {
        action: 'ALLOW',
        rules: [
          {
            from: [
              { source: { principals: ['cluster.local/ns/a/sa/b', '*'], notNamespaces: ['x*'] } },
              { source: { ipBlocks: ['10.0.0.0/8', '198.18.0.7'], notRemoteIpBlocks: ['fd00::1'] } },
            ],
            to: [
              {
                operation: {
                  hosts: ['*.Example.COM'],
                  ports: ['9080'],
                  notMethods: ['DELETE'],
                  paths: ['/api*'],
                },
              },
            ],
            when: [
              { key: 'request.headers[X-User]', values: ['jason'], notValues: ['*admin'] },
              { key: 'destination.port', values: ['80'] },
            ],
          },
          {},
        ],
      }) as never,
    )
    expect(p).toEqual({
      name: 'default/p',
      rules: [
        {
          from: [
            [
              {
                attribute: 'source.principal',
                strings: [{ exact: 'cluster.local/ns/a/sa/b' }, { presence: true }],
              },
              { attribute: 'source.namespace', not: true, strings: [{ prefix: 'x' }] },
            ],
            [
              { attribute: 'source.ip', cidrs: ['10.0.0.0/8', '198.18.0.7/32'] },
              { attribute: 'remote.ip', not: true, cidrs: ['fd00::1/128'] },
            ],
          ],
          to: [
            [
              { attribute: 'request.host', strings: [{ suffix: '.example.com' }] },
              { attribute: 'destination.port', ports: [9080] },
              { attribute: 'request.method', not: true, strings: [{ exact: 'DELETE' }] },
              { attribute: 'request.path', strings: [{ prefix: '/api' }] },
            ],
          ],
          when: [
            { attribute: 'request.headers', header: 'x-user', strings: [{ exact: 'jason' }] },
            { attribute: 'request.headers', header: 'x-user', not: true, strings: [{ suffix: 'admin' }] },
            { attribute: 'destination.port', ports: [80] },
          ],
        },
        {},
      ],
    })
  })
})
