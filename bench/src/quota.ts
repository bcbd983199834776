/**
 * pnpm bench:quota — the quota check's cost.
 * - decisions_per_s: Allocate calls per second answered by one quota-service process (one core,
 *   memory backend), from a separate load process with many calls in flight;
 * - backend_decisions_per_s: the memory backend's own decisions per second, no network;
 * - added_latency_ms: the time the server-side proxy's quota check adds to a request (evaluate
 *   dimensions, pick the override, one Allocate round trip), at a fixed 1,000 req/s.
 */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { QuotaRule } from '@minimesh/api'
import { MemoryQuotaBackend } from '@minimesh/control-plane/quota'
import { attributeLookup, grpcQuotaClient, QuotaChecker } from '@minimesh/proxy/quota'
import { fixedRate, round, summarize, writeResult } from './stats.ts'

const server = fork(fileURLToPath(new URL('./quota-server.ts', import.meta.url)), {
  execArgv: ['--conditions=@minimesh/source'],
})
const port = await new Promise<number>((resolve) =>
  server.once('message', (m: { port: number }) => resolve(m.port)),
)
const address = `127.0.0.1:${port}`

const rule: QuotaRule = {
  name: 'default/requestcount',
  maxAmount: 1_000_000_000,
  validDurationMs: 1000,
  dimensions: {
    source: 'source.labels["app"] | "unknown"',
    destination: 'destination.labels["app"] | "unknown"',
  },
  overrides: [{ dimensions: { destination: 'ratings' }, maxAmount: 1_000_000_000, validDurationMs: 1000 }],
}
const lookup = attributeLookup(
  { workload: 'reviews-v2', namespace: 'default', labels: { app: 'reviews' } },
  { workload: 'ratings-v1', namespace: 'default', labels: { app: 'ratings' } },
  { headers: {}, path: '/ratings/0', method: 'GET', host: 'ratings:9080' },
)

// 1. Throughput of the service: closed loop, 64 calls in flight, 5 s.
const client = grpcQuotaClient(address, 2000)
const req = {
  quota: rule.name,
  dimensions: { destination: 'ratings' },
  amount: 1,
  maxAmount: 1e9,
  validDurationMs: 1000,
}
for (let i = 0; i < 2000; i++) await client.allocate(req) // warm up
let done = 0
const until = performance.now() + 5000
await Promise.all(
  Array.from({ length: 64 }, async () => {
    while (performance.now() < until) {
      await client.allocate(req)
      done++
    }
  }),
)
const decisionsPerS = done / 5

// 2. The backend alone.
const backend = new MemoryQuotaBackend()
const t0 = performance.now()
let n = 0
while (performance.now() - t0 < 2000) {
  for (let i = 0; i < 1000; i++) backend.allocateSync({ ...req, dimensions: { destination: `d${i % 50}` } })
  n += 1000
}
const backendPerS = n / ((performance.now() - t0) / 1000)

// 3. Added latency at a fixed 1,000 req/s.
const checker = new QuotaChecker({ client })
await fixedRate(1000, 1, () => checker.check([rule], lookup))
const lat = summarize(await fixedRate(1000, 5, () => checker.check([rule], lookup)))

client.close()
server.kill()
writeResult('quota', {
  decisions_per_s: Math.round(decisionsPerS),
  backend_decisions_per_s: Math.round(backendPerS),
  added_latency_ms: { p50: lat.p50, p99: lat.p99, rate_per_s: 1000, samples: lat.n },
  goals: { 'added_latency_ms.p50': '<= 0.3', decisions_per_s: '>= 20000' },
  met: { added_latency_p50: lat.p50 <= 0.3, decisions_per_s: decisionsPerS >= 20_000 },
  note:
    round(decisionsPerS) > 0
      ? 'quota service in its own process (one core); load from this process over loopback gRPC'
      : '',
})
process.exit(0)
