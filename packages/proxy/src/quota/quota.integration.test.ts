// Quota over real traffic: two client sidecars send to two server replicas; each server sidecar
// asks one real quota service (gRPC, memory backend), so the allowance is shared by every client
// and every replica. The original destinations are injected (no iptables); all else is real.
import * as grpc from '@grpc/grpc-js'
import type { Listener, QuotaRule } from '@minimesh/api'
import { addQuotaService, MemoryQuotaBackend } from '@minimesh/control-plane/quota'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningProxy } from '../proxy.ts'
import { startTestProxy, startUpstream, type Upstream } from '../testdata/harness.ts'
import { POD_IP, REVIEWS_IP, sidecarConfig } from '../testdata/sidecar.ts'
import { grpcQuotaClient } from './client.ts'
import { QuotaInboundPolicy } from './policy.ts'

const LIMIT = 10 // per second
const RATE = 40 // requests per second, both clients together
const SECONDS = 5

const rule: QuotaRule = {
  name: 'default/requestcount',
  maxAmount: 5000,
  validDurationMs: 1000,
  dimensions: { destination: 'destination.labels["app"] | destination.service | "unknown"' },
  overrides: [{ dimensions: { destination: 'reviews' }, maxAmount: LIMIT, validDurationMs: 1000 }],
}

describe('quota across two client sidecars and two server replicas', () => {
  let server: grpc.Server
  const apps: Upstream[] = []
  const servers: RunningProxy[] = []
  const clients: RunningProxy[] = []

  beforeAll(async () => {
    server = new grpc.Server()
    addQuotaService(server, new MemoryQuotaBackend())
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    )
    const policies = [0, 1].map(
      () => new QuotaInboundPolicy({ client: grpcQuotaClient(`127.0.0.1:${port}`, 500) }),
    )
    for (let i = 0; i < 2; i++) {
      const app = await startUpstream(`reviews-${i}`)
      apps.push(app)
      const config = sidecarConfig({ reviews: [], db: 1, app: app.port })
      const inbound = config.listeners?.find((l: Listener) => l.name === 'virtualInbound')
      for (const chain of inbound?.filterChains ?? []) chain.quotas = [rule]
      servers.push(
        await startTestProxy(config, {
          identity: {
            workload: `reviews-v${i + 1}`,
            namespace: 'default',
            labels: { app: 'reviews', version: `v${i + 1}` },
          },
          originalDestination: () => ({ address: POD_IP, port: 9080 }),
          inboundPolicy: policies[i],
        }),
      )
      servers[i]!.ctx.metrics.addSource(policies[i]!.registry)
    }
    const endpoints = servers.map((s) => ({ address: '127.0.0.1', port: s.ports.listeners.virtualInbound! }))
    for (let i = 0; i < 2; i++) {
      clients.push(
        await startTestProxy(sidecarConfig({ reviews: endpoints, db: 1, app: 1 }), {
          identity: { workload: `productpage-${i}`, namespace: 'default', labels: { app: 'productpage' } },
          originalDestination: () => ({ address: REVIEWS_IP, port: 9080 }),
        }),
      )
    }
  })
  afterAll(async () => {
    for (const p of [...clients, ...servers]) await p.close()
    for (const a of apps) await a.close()
    server.forceShutdown()
  })

  it(`admits ${LIMIT}/s for ${SECONDS} s within one slot at each edge; the rest get 429 RL`, async () => {
    const statuses: { status: number; body: string }[] = []
    const start = performance.now()
    const pending: Promise<void>[] = []
    for (let i = 0; i < RATE * SECONDS; i++) {
      const due = start + (i * 1000) / RATE
      await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())))
      const client = clients[i % 2]!
      pending.push(
        fetch(`http://127.0.0.1:${client.ports.listeners.virtualOutbound}/reviews/${i}`, {
          headers: { host: 'reviews:9080' },
        }).then(async (r) => void statuses.push({ status: r.status, body: await r.text() })),
      )
    }
    await Promise.all(pending)
    const admitted = statuses.filter((s) => s.status === 200).length
    const refused = statuses.filter((s) => s.status === 429)
    const perSlot = RATE / 10 // requests in one 100 ms slot
    expect(admitted + refused.length).toBe(RATE * SECONDS)
    expect(Math.abs(admitted - LIMIT * SECONDS)).toBeLessThanOrEqual(2 * perSlot)
    expect(refused[0]?.body).toBe('RESOURCE_EXHAUSTED: quota exceeded for default/requestcount')
    // Both replicas served some of what was admitted: the count is shared, not per replica.
    expect(apps.every((a) => a.seen.length > 0)).toBe(true)
    expect(apps[0]!.seen.length + apps[1]!.seen.length).toBe(admitted)
    // The refusals are in the server sidecars' access logs with flag RL.
    const rl = servers
      .flatMap((s) => s.accessLog.recent)
      .filter((e) => String(e.response_flags).includes('RL'))
    expect(rl.length).toBe(refused.length)
    // The quota counters join each server sidecar's Prometheus text.
    const texts = await Promise.all(servers.map((s) => s.ctx.metrics.text()))
    expect(texts.some((t) => /minimesh_quota_decisions_total\{[^}]*result="refused"\} [1-9]/.test(t))).toBe(
      true,
    )
  }, 30_000)
})
