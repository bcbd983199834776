import { formatNodeId, TYPE_ORDER, TypeUrl, validateProxyResource } from '@minimesh/api'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { syncz } from '../monitoring/debug.ts'
import { Metrics } from '../monitoring/metrics.ts'
import { SnapshotBuilder } from '../snapshot.ts'
import { objectKey } from '../sources/source.ts'
import type { ConfigStore } from '../store.ts'
import { fixtureStore, PLATFORM } from '../testdata/fixtures.ts'
import { TestProxy } from '../testdata/xds-client.ts'
import { DiscoveryServer } from './server.ts'

const productpage = {
  id: formatNodeId('sidecar', '198.18.0.16', 'productpage-v1-54bb874995-d5nrg', 'default'),
  namespace: 'default',
  labels: { app: 'productpage', version: 'v1' },
}
const reviewsV2 = {
  id: formatNodeId('sidecar', '198.18.0.14', 'reviews-v2-7d59c96f8b-k4hzj', 'default'),
  namespace: 'default',
  labels: { app: 'reviews', version: 'v2' },
}

let server: DiscoveryServer
let address: string
let store: ConfigStore
let builder: SnapshotBuilder
const proxies: TestProxy[] = []

function connect(
  node: { id: string; namespace?: string; labels?: Record<string, string> },
  options: { incremental?: boolean } = {},
): TestProxy {
  const p = new TestProxy(address, node, options)
  proxies.push(p)
  return p
}

/** Applies fixture files to the store and pushes a new snapshot. */
function apply(files: string[]): void {
  fixtureStore(files, store)
  server.setSnapshot(builder.build(store), performance.now())
}

const synced = (p: TestProxy) => () => TYPE_ORDER.every((t) => p.of(t).length > 0)

beforeEach(async () => {
  server = new DiscoveryServer({
    metrics: new Metrics({ processMetrics: false }),
    concurrency: 4,
    writeTimeoutMs: 500,
  })
  address = await server.listen('127.0.0.1:0')
  store = fixtureStore(PLATFORM)
  builder = new SnapshotBuilder()
  server.setSnapshot(builder.build(store))
})

afterEach(async () => {
  for (const p of proxies.splice(0)) p.close()
  await server.close()
})

describe('discovery server (real gRPC clients)', () => {
  it('sends every type in order, with versions and nonces, and records the ACKs', async () => {
    const p = connect(productpage)
    await p.until(synced(p), 5000, 'every type')
    expect(p.received.slice(0, TYPE_ORDER.length).map((r) => r.typeUrl)).toEqual(TYPE_ORDER)
    for (const r of p.received) {
      expect(r.version).toMatch(/^\d+-[0-9a-f]{8}$/)
      expect(r.nonce).not.toBe('')
      for (const res of r.resources) expect(validateProxyResource(r.typeUrl, res.value)).toEqual([])
    }
    expect(new Set(p.received.map((r) => r.nonce)).size).toBe(p.received.length)
    await server.idle()
    await p.until(() => {
      const s = syncz(server)[0]
      return s !== undefined && Object.values(s.types).every((t) => t.synced)
    })
    const s = syncz(server)[0]!
    expect(s.proxy).toBe(productpage.id)
    expect(s.types.RouteConfiguration?.acked).toBe(p.last(TypeUrl.RouteConfiguration)!.version)
    expect(s.types.Cluster?.lastNack).toBeNull()
  })

  it('pushes only the types whose content changed, only to the proxies it changed for', async () => {
    const pp = connect(productpage)
    const rv = connect(reviewsV2)
    await pp.until(synced(pp))
    await rv.until(synced(rv))
    const before = { pp: pp.received.length, rv: rv.received.length }
    // A QuotaPolicy on reviews changes only the inbound listener of reviews pods.
    apply(['quota-policy.yaml'])
    await rv.until(() => rv.received.length > before.rv, 5000, 'the quota push')
    await server.idle()
    await new Promise((r) => setTimeout(r, 100))
    expect(rv.received.slice(before.rv).map((r) => r.typeUrl)).toEqual([TypeUrl.Listener])
    expect(pp.received.length).toBe(before.pp)
    const inbound = rv.last(TypeUrl.Listener)!.resources.find((r) => r.name === 'virtualInbound')!.value as {
      filterChains: { quotas?: { name: string }[] }[]
    }
    expect(inbound.filterChains[0]!.quotas?.map((q) => q.name)).toEqual(['default/requestcount'])

    // A VirtualService changes routes for both; a new DestinationRule adds clusters and endpoints.
    const mark = { pp: pp.received.length }
    apply(['destination-rule-all.yaml', 'virtual-service-all-v1.yaml'])
    await pp.until(() => pp.of(TypeUrl.VirtualHost).length >= 2, 5000, 'routes')
    await server.idle()
    // The route configuration itself (vhds, with the allow-any fallback) is unchanged: only hosts go.
    expect(pp.received.slice(mark.pp).map((r) => r.typeUrl)).toEqual([
      TypeUrl.Cluster,
      TypeUrl.ClusterLoadAssignment,
      TypeUrl.VirtualHost,
    ])
  })

  it('records a NACK with its reason, does not resend the rejected state, sends the next change', async () => {
    const p = connect(productpage)
    p.answer = (r) =>
      r.typeUrl === TypeUrl.VirtualHost && r.version.startsWith('2-') ? { nack: 'route 9080: bad' } : 'ack'
    await p.until(synced(p))
    apply(['destination-rule-all.yaml', 'virtual-service-all-v1.yaml'])
    await p.until(() => syncz(server)[0]?.types.VirtualHost?.lastNack != null, 5000, 'the NACK')
    const s = syncz(server)[0]!.types.VirtualHost!
    expect(s.lastNack?.message).toBe('route 9080: bad')
    expect(s.acked).toBe(p.of(TypeUrl.VirtualHost)[0]!.version)
    const hostsSent = p.of(TypeUrl.VirtualHost).length
    apply(['destination-rule-all.yaml']) // a change that leaves productpage's routes as they were
    await server.idle()
    await new Promise((r) => setTimeout(r, 100))
    expect(p.of(TypeUrl.VirtualHost).length).toBe(hostsSent)
    apply(['virtual-service-reviews-test-v2.yaml'])
    await p.until(() => p.of(TypeUrl.VirtualHost).length === hostsSent + 1, 5000, 'the next routes')
    await p.until(() => syncz(server)[0]?.types.VirtualHost?.synced === true)
  })

  it('holds newer state while a response is unanswered, then sends only the newest', async () => {
    const p = connect(productpage)
    await p.until(synced(p))
    p.answer = (r) => (r.typeUrl === TypeUrl.VirtualHost ? 'silent' : 'ack')
    apply(['destination-rule-all.yaml', 'virtual-service-all-v1.yaml'])
    await p.until(() => p.of(TypeUrl.VirtualHost).length === 2)
    apply(['virtual-service-reviews-test-v2.yaml'])
    apply(['virtual-service-reviews-90-10.yaml'])
    await server.idle()
    await new Promise((r) => setTimeout(r, 150))
    expect(p.of(TypeUrl.VirtualHost).length).toBe(2)
    expect(syncz(server)[0]!.types.VirtualHost!.pending).toBe(true)
    p.answer = () => 'ack'
    p.ack(p.last(TypeUrl.VirtualHost)!)
    await p.until(() => p.of(TypeUrl.VirtualHost).length === 3, 5000, 'the newest routes')
    const hosts = p.last(TypeUrl.VirtualHost)!.resources.map(
      (r) =>
        (
          r.value as {
            virtualHost: {
              name: string
              routes: { route?: { clusters: { name: string; weight: number }[] } }[]
            }
          }
        ).virtualHost,
    )
    const reviews = hosts.find((v) => v.name.startsWith('reviews.'))!
    expect(reviews.routes[0]!.route!.clusters.map((c) => c.weight)).toEqual([90, 10])
    await server.idle()
    await new Promise((r) => setTimeout(r, 100))
    expect(p.of(TypeUrl.VirtualHost).length).toBe(3)
  })

  it('resyncs a proxy that reconnects: the full state again, one connection in syncz', async () => {
    const p = connect(productpage)
    await p.until(synced(p))
    const first = p.received.length
    p.reconnect()
    await p.until(() => p.received.length >= first + TYPE_ORDER.length, 5000, 'the resync')
    expect(p.received.slice(first).map((r) => r.typeUrl)).toEqual(TYPE_ORDER)
    await p.until(
      () => syncz(server).length === 1 && Object.values(syncz(server)[0]!.types).every((t) => t.synced),
    )
    expect(server.connections.size).toBe(1)
  })

  it('a stalled proxy does not delay the others', async () => {
    const stalled = connect({
      ...productpage,
      id: formatNodeId('sidecar', '198.18.9.1', 'stalled-0.default', 'default'),
    })
    await stalled.until(synced(stalled))
    stalled.answer = () => 'silent'
    const others = Array.from({ length: 12 }, (_, i) =>
      connect({ ...productpage, id: formatNodeId('sidecar', `198.18.9.${i + 10}`, `p${i}-0`, 'default') }),
    )
    for (const o of others) await o.until(synced(o))
    apply(['destination-rule-all.yaml', 'virtual-service-all-v1.yaml'])
    await stalled.until(() => stalled.of(TypeUrl.Cluster).length === 2)
    for (const o of others) await o.until(() => o.of(TypeUrl.VirtualHost).length === 2, 3000, 'routes')
    const t0 = performance.now()
    apply(['virtual-service-reviews-test-v2.yaml'])
    const hasJason = (o: TestProxy) =>
      JSON.stringify(o.last(TypeUrl.VirtualHost)?.resources).includes('jason')
    for (const o of others) await o.until(() => hasJason(o), 3000, 'routes')
    expect(performance.now() - t0).toBeLessThan(1000)
    expect(stalled.of(TypeUrl.VirtualHost).length).toBe(2)
  })

  it('sends an incremental proxy only the changes after a full first response; they add up to the full state', async () => {
    const inc = connect(productpage, { incremental: true })
    const full = connect({
      ...productpage,
      id: formatNodeId('sidecar', '198.18.0.17', 'productpage-v1-54bb874995-x7k2p', 'default'),
    })
    await inc.until(synced(inc))
    await full.until(synced(full))
    for (const t of TYPE_ORDER) expect(inc.of(t)[0]!.incremental).toBe(false)
    const same = () =>
      TYPE_ORDER.every((t) => JSON.stringify(inc.state.get(t)) === JSON.stringify(full.state.get(t)))

    // Subsets add clusters and endpoints; the VirtualServices change the four Bookinfo hosts.
    const mark = inc.received.length
    apply(['destination-rule-all.yaml', 'virtual-service-all-v1.yaml'])
    await inc.until(() => inc.of(TypeUrl.VirtualHost).length === 2, 5000, 'the host delta')
    await full.until(() => full.of(TypeUrl.VirtualHost).length === 2, 5000, 'the full hosts')
    await server.idle()
    const sent = inc.received.slice(mark)
    expect(sent.map((r) => [r.typeUrl, r.incremental])).toEqual([
      [TypeUrl.Cluster, true],
      [TypeUrl.ClusterLoadAssignment, true],
      [TypeUrl.VirtualHost, true],
    ])
    expect(sent[0]!.resources.map((r) => r.name)).toContain(
      'outbound|9080|v2|reviews.default.svc.cluster.local',
    )
    // Only subset clusters are new; the plain service clusters stay as they were.
    expect(sent[0]!.resources.map((r) => r.name).filter((n) => n.includes('||'))).toEqual([])
    expect(sent[2]!.resources.map((r) => r.name).sort()).toEqual([
      '9080/details.default.svc.cluster.local:9080',
      '9080/productpage.default.svc.cluster.local:9080',
      '9080/ratings.default.svc.cluster.local:9080',
      '9080/reviews.default.svc.cluster.local:9080',
    ])
    await inc.until(same, 5000, 'the same state as the full proxy')

    // One VirtualService changed: one host for the incremental proxy, all four for the other.
    apply(['virtual-service-reviews-test-v2.yaml'])
    await inc.until(() => inc.of(TypeUrl.VirtualHost).length === 3, 5000, 'the reviews delta')
    await full.until(() => full.of(TypeUrl.VirtualHost).length === 3, 5000, 'the full hosts again')
    expect(inc.last(TypeUrl.VirtualHost)!.resources.map((r) => r.name)).toEqual([
      '9080/reviews.default.svc.cluster.local:9080',
    ])
    expect(full.last(TypeUrl.VirtualHost)!.resources.length).toBe(4)
    await inc.until(same, 5000, 'the same state after the reviews change')

    // A service removed: its host, clusters and endpoints are named as removed.
    const ratings = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ratings', namespace: 'default' } }
    const before = inc.of(TypeUrl.VirtualHost).length
    store.remove(objectKey(ratings), '*')
    server.setSnapshot(builder.build(store), performance.now())
    await inc.until(() => inc.of(TypeUrl.VirtualHost).length === before + 1, 5000, 'the removal')
    expect(inc.last(TypeUrl.VirtualHost)!.removed).toEqual(['9080/ratings.default.svc.cluster.local:9080'])
    expect(inc.last(TypeUrl.VirtualHost)!.resources).toEqual([])
    expect(inc.last(TypeUrl.Cluster)!.removed).toContain('outbound|9080|v1|ratings.default.svc.cluster.local')
    await full.until(() => full.of(TypeUrl.VirtualHost).length === before + 1, 5000, 'the full removal')
    await inc.until(same, 5000, 'the same state after the removal')
  })

  it('after a NACKed incremental response, computes the next from the last accepted state', async () => {
    const p = connect(productpage, { incremental: true })
    p.answer = (r) => (r.typeUrl === TypeUrl.VirtualHost && r.incremental ? { nack: 'no' } : 'ack')
    await p.until(synced(p))
    apply(['destination-rule-all.yaml', 'virtual-service-all-v1.yaml'])
    await p.until(() => p.of(TypeUrl.VirtualHost).length === 2, 5000, 'the rejected delta')
    await p.until(() => syncz(server)[0]?.types.VirtualHost?.lastNack != null, 5000, 'the NACK')
    p.answer = () => 'ack'
    // Only reviews changes now, but the proxy never took the other three: they come again too.
    apply(['virtual-service-reviews-test-v2.yaml'])
    await p.until(() => p.of(TypeUrl.VirtualHost).length === 3, 5000, 'the next delta')
    expect(
      p
        .last(TypeUrl.VirtualHost)!
        .resources.map((r) => r.name)
        .sort(),
    ).toEqual([
      '9080/details.default.svc.cluster.local:9080',
      '9080/productpage.default.svc.cluster.local:9080',
      '9080/ratings.default.svc.cluster.local:9080',
      '9080/reviews.default.svc.cluster.local:9080',
    ])
    const reviews = p
      .virtualHosts<{ name: string; routes: unknown[] }>()
      .find((v) => v.name.startsWith('reviews.'))!
    expect(JSON.stringify(reviews.routes)).toContain('jason')
  })

  it('refuses a stream whose node id is not a proxy id', async () => {
    const p = connect({ id: 'not-a-node-id' })
    await p.until(() => p.ended !== undefined, 5000, 'the stream to end')
    expect(p.ended?.code).toBe(3)
    expect(p.ended?.details).toMatch(/node id/)
    expect(server.connections.size).toBe(0)
  })
})
