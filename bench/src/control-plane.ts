/**
 * pnpm bench:control-plane — meshd at 1,000 services (3 endpoints each) and 1,000 connected proxies.
 * - push_ms: from a VirtualService written to the watched config directory (atomic rename) to the
 *   last affected proxy's ACK of the new routes (every proxy sees the service: all 1,000), measured
 *   where meshd receives the ACK; includes the file watch, the 100 ms debounce, the snapshot
 *   rebuild, translation and the push;
 * - snapshot_rebuild_ms: meshd's snapshot builds during the run (validation cached per object,
 *   analysis and registry rebuilt), from its own histogram; plus a cold build;
 * - meshd_rss_mb: resident memory of the process running meshd (this one, relaunched first with
 *   meshd's own start-up settings, MESHD_LAUNCH; the proxies are a separate process), peak over the run.
 * No peer is measured: there is no other control plane on this machine to run beside it.
 */
import { fork } from 'node:child_process'
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatNodeId, TypeUrl } from '@minimesh/api'
import { relaunch } from '@minimesh/api/launch'
import { type AckEvent, MESHD_LAUNCH, SnapshotBuilder, startMeshd } from '@minimesh/control-plane'
import { round, summarize, writeResult } from './stats.ts'

// meshd runs in this process: give it the V8 flags and malloc settings the meshd binary runs with.
relaunch(MESHD_LAUNCH)

const SERVICES = Number(process.env.BENCH_SERVICES ?? 1000)
const PROXIES = Number(process.env.BENCH_PROXIES ?? 1000)
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 30)
// 'gzip' turns meshd's response compression on (default off), for comparison.
const COMPRESSION = process.env.BENCH_COMPRESSION === 'gzip' ? 'gzip' : 'identity'
// BENCH_INCREMENTAL=0: the proxies ask for state-of-the-world responses only (as before incremental xDS), for comparison.
const INCREMENTAL = process.env.BENCH_INCREMENTAL !== '0'
const ROUTED = Math.min(100, SERVICES) // services with a DestinationRule (v1..v3) and a VirtualService
const NS = 'bench'
const VERSIONS = ['v1', 'v2', 'v3']

const dir = mkdtempSync(join(tmpdir(), 'bench-cp-'))
const name = (i: number) => `svc-${String(i).padStart(4, '0')}`
const podIp = (i: number, v: number) =>
  `198.18.${Math.floor((i * 3 + v) / 250) + 1}.${((i * 3 + v) % 250) + 2}`
const clusterIp = (i: number) => `198.19.${Math.floor(i / 250) + 1}.${(i % 250) + 2}`
const podName = (i: number, v: number) => `${name(i)}-${VERSIONS[v]}-7f9c8d6b5-x${v}q2k`

function write(kind: string, ns: string, objName: string, text: string): void {
  const d = join(dir, kind, ns)
  mkdirSync(d, { recursive: true })
  const tmp = join(d, `.${objName}.tmp`)
  writeFileSync(tmp, text)
  renameSync(tmp, join(d, `${objName}.yaml`))
}

const vsText = (i: number, w: number) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name(i)}, namespace: ${NS}}
spec:
  hosts: [${name(i)}]
  http:
  - match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: ${name(i)}, subset: v2}}]
  - route:
    - {destination: {host: ${name(i)}, subset: v1}, weight: ${100 - w}}
    - {destination: {host: ${name(i)}, subset: v3}, weight: ${w}}
`

// 1. The configuration directory, in the local cluster's layout.
const t0 = performance.now()
write('namespace', '_cluster', NS, `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${NS}}\n`)
for (let i = 0; i < SERVICES; i++) {
  const n = name(i)
  write(
    'service',
    NS,
    n,
    `apiVersion: v1\nkind: Service\nmetadata: {name: ${n}, namespace: ${NS}}\nspec:\n  clusterIP: ${clusterIp(i)}\n  selector: {app: ${n}}\n  ports: [{name: http, port: 9080}]\n`,
  )
  const addrs = VERSIONS.map(
    (_, v) => `  - ip: ${podIp(i, v)}\n    targetRef: {kind: Pod, name: ${podName(i, v)}, namespace: ${NS}}`,
  ).join('\n')
  write(
    'endpoints',
    NS,
    n,
    `apiVersion: v1\nkind: Endpoints\nmetadata: {name: ${n}, namespace: ${NS}}\nsubsets:\n- addresses:\n${addrs}\n  ports: [{name: http, port: 9080}]\n`,
  )
  for (const [v, version] of VERSIONS.entries())
    write(
      'pod',
      NS,
      podName(i, v),
      `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${podName(i, v)}\n  namespace: ${NS}\n  labels: {app: ${n}, version: ${version}, pod-template-hash: 7f9c8d6b5}\nspec:\n  serviceAccountName: ${n}\n  containers: [{name: app, ports: [{containerPort: 9080}]}]\nstatus: {podIP: ${podIp(i, v)}}\n`,
    )
  if (i < ROUTED) {
    write(
      'destinationrule',
      NS,
      n,
      `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: ${n}, namespace: ${NS}}\nspec:\n  host: ${n}\n  subsets:\n${VERSIONS.map((v) => `  - {name: ${v}, labels: {version: ${v}}}`).join('\n')}\n`,
    )
    write('virtualservice', NS, n, vsText(i, 0))
  }
}
const writeMs = performance.now() - t0

// 2. meshd, in this process.
let peakRss = 0
let peakMem = process.memoryUsage()
const sampler = setInterval(() => {
  const m = process.memoryUsage()
  if (m.rss > peakRss) {
    peakRss = m.rss
    peakMem = m
  }
}, 50)
const t1 = performance.now()
const meshd = await startMeshd({
  configDir: dir,
  grpcAddress: '127.0.0.1:0',
  monitoringAddress: '127.0.0.1:0',
  webhookAddress: '127.0.0.1:0',
  logLevel: 'warn',
  discovery: { compression: COMPRESSION },
})
const startMs = performance.now() - t1
const cold = performance.now()
new SnapshotBuilder().build(meshd.store)
const coldBuildMs = performance.now() - cold

// 3. The proxies, in another process: proxy i is the v1 pod of service i.
const child = fork(fileURLToPath(new URL('./control-plane-proxies.ts', import.meta.url)), {
  execArgv: ['--conditions=@minimesh/source', '--max-old-space-size=4096'],
})
const proxies = Array.from({ length: PROXIES }, (_, k) => {
  const i = k % SERVICES
  return {
    id: formatNodeId('sidecar', podIp(i, 0), `${podName(i, 0)}-${k}`, NS),
    labels: { app: name(i), version: 'v1' },
  }
})
const t2 = performance.now()
const ready = new Promise<void>((resolve) => child.on('message', (m) => m === 'ready' && resolve()))
child.send({ address: meshd.addresses.grpc, namespace: NS, proxies, incremental: INCREMENTAL })
await ready
const initialSyncMs = performance.now() - t2
console.error(
  `setup: ${SERVICES} services written in ${round(writeMs, 0)} ms; meshd started in ${round(startMs, 0)} ms; ${PROXIES} proxies synced in ${round(initialSyncMs, 0)} ms`,
)

// 4. VirtualService changes: time to the last proxy's ACK of new routes (the changed virtual host).
const routesAcked = new Map<string, string>()
let onAck: ((e: AckEvent) => void) | undefined
meshd.discovery.on('ack', (e: AckEvent) => {
  if (e.typeUrl !== TypeUrl.VirtualHost) return
  routesAcked.set(e.proxyId, e.version)
  onAck?.(e)
})
await new Promise((r) => setTimeout(r, 500))
const rebuildBefore = await rebuildStats()
const cpuBefore = process.cpuUsage()
const proxiesCpuBefore = await proxiesCpu()
const samples: number[] = []
for (let n = 0; n < ITERATIONS; n++) {
  const i = n % ROUTED
  const before = new Map(routesAcked)
  let pending = PROXIES
  const converged = new Promise<number>((resolve) => {
    const seen = new Set<string>()
    onAck = (e) => {
      if (e.version === before.get(e.proxyId) || seen.has(e.proxyId)) return
      seen.add(e.proxyId)
      if (--pending === 0) resolve(e.at)
    }
  })
  const start = performance.now()
  write('virtualservice', NS, name(i), vsText(i, 10 + ((n * 7) % 80)))
  const last = await converged
  samples.push(last - start)
  await new Promise((r) => setTimeout(r, 200))
}
const rebuildAfter = await rebuildStats()
const meshdCpu = process.cpuUsage(cpuBefore)
const proxiesCpuAfter = await proxiesCpu()
const rss = process.memoryUsage().rss
clearInterval(sampler)
peakRss = Math.max(peakRss, rss)

child.send('stop')
await meshd.close()
rmSync(dir, { recursive: true, force: true })

/** CPU seconds (user + system) the proxies' process has used so far. */
function proxiesCpu(): Promise<number> {
  return new Promise((resolve) => {
    const on = (m: unknown) => {
      const cpu = (m as { cpu?: NodeJS.CpuUsage }).cpu
      if (!cpu) return
      child.off('message', on)
      resolve((cpu.user + cpu.system) / 1e6)
    }
    child.on('message', on)
    child.send('cpu')
  })
}

async function rebuildStats(): Promise<{ sum: number; count: number }> {
  const text = await meshd.metrics.registry.getSingleMetricAsString('meshd_snapshot_rebuild_seconds')
  const num = (suffix: string) =>
    Number(
      text
        .split('\n')
        .find((l) => l.startsWith(`meshd_snapshot_rebuild_seconds_${suffix}`))
        ?.split(' ')[1] ?? 0,
    )
  return { sum: num('sum'), count: num('count') }
}
const rebuilds = rebuildAfter.count - rebuildBefore.count
const push = summarize(samples)
const rebuildMs = rebuilds ? ((rebuildAfter.sum - rebuildBefore.sum) / rebuilds) * 1000 : Number.NaN
writeResult('control-plane', {
  machine: { cpus: cpus().length, model: cpus()[0]?.model },
  setup: {
    services: SERVICES,
    endpoints_per_service: 3,
    proxies: PROXIES,
    routed_services: ROUTED,
    iterations: ITERATIONS,
  },
  push_ms: {
    p50: round(push.p50, 1),
    p99: round(push.p99, 1),
    max: round(Math.max(...samples), 1),
    n: push.n,
  },
  snapshot_rebuild_ms: round(rebuildMs, 1),
  snapshot_build_cold_ms: round(coldBuildMs, 1),
  initial_sync_ms: round(initialSyncMs, 0),
  compression: COMPRESSION,
  incremental: INCREMENTAL,
  meshd_launch: { flags: process.execArgv.filter((f) => f.startsWith('--max')), env: MESHD_LAUNCH.env },
  // CPU seconds per VirtualService change, over the push phase.
  cpu_s_per_change: {
    meshd: round((meshdCpu.user + meshdCpu.system) / 1e6 / ITERATIONS, 3),
    proxies: round((proxiesCpuAfter - proxiesCpuBefore) / ITERATIONS, 3),
  },
  meshd_rss_mb: round(peakRss / 2 ** 20, 0),
  meshd_rss_end_mb: round(rss / 2 ** 20, 0),
  // process.memoryUsage() when RSS peaked (MB): V8 heap vs Buffers outside it.
  meshd_memory_at_peak_mb: {
    heap_total: round(peakMem.heapTotal / 2 ** 20, 0),
    heap_used: round(peakMem.heapUsed / 2 ** 20, 0),
    external: round(peakMem.external / 2 ** 20, 0),
    array_buffers: round(peakMem.arrayBuffers / 2 ** 20, 0),
  },
  goals: { 'push_ms.p99': '<= 1000', snapshot_rebuild_ms: '<= 200', meshd_rss_mb: '<= 500' },
  met: { push_p99: push.p99 <= 1000, snapshot_rebuild: rebuildMs <= 200, rss: peakRss / 2 ** 20 <= 500 },
  note: 'meshd in this process; 1,000 proxies (one gRPC channel and stream each, incremental xDS unless BENCH_INCREMENTAL=0) in a forked process that ACKs without decoding; push_ms includes the 100 ms debounce',
})
process.exit(0)
