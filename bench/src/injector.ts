/**
 * pnpm bench:injector — sidecar injection admissions per second and latency.
 * One webhook process (createWebhookServer, as meshd serves it on 15017) answers pod CREATE
 * AdmissionReviews for a Bookinfo productpage-v1 pod over HTTPS; this process is the API server:
 * undici with keep-alive, every answer checked (allowed, with a JSON Patch).
 * - sweep: closed loop with N reviews in flight (N = 1, 2, 4, 8, 32): admissions/s, p50, p99;
 * - admissions_per_s / p50_ms / p99_ms: the sweep run with the most admissions/s whose p99 is
 *   within the 5 ms goal (the peak run when none is);
 * - at_rate: latency at a fixed offered 2,000 admissions/s (open loop, measured from each review's
 *   scheduled send time, so a stall of either process counts against every review it delays).
 * The peer measured in the same run is plain node:https answering a fixed review after
 * JSON.parse: the cost of TLS + HTTP + JSON alone on this machine.
 * Goal: >= 2,000 admissions/s from one webhook process with p99 <= 5 ms.
 */
import { fork } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateCertificates } from '@minimesh/injector'
import { productpagePod } from '@minimesh/injector/testing'
import { Pool } from 'undici'
import { percentile, round, writeResult } from './stats.ts'

const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 2)
const MEASURE_S = Number(process.env.BENCH_SECONDS ?? 6)
const CONCURRENCY = [1, 2, 4, 8, 32]
const PEER_CONCURRENCY = 8
const RATE = 2000

// The productpage-v1 pod as the ReplicaSet controller sends it (shared with the injector's golden tests).
function productpageReview(uid: string) {
  return {
    kind: 'AdmissionReview',
    apiVersion: 'admission.k8s.io/v1',
    request: {
      uid,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      requestResource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'default',
      operation: 'CREATE',
      userInfo: {
        username: 'system:serviceaccount:kube-system:replicaset-controller',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
      },
      object: productpagePod(),
      oldObject: null,
      dryRun: false,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
    },
  }
}

async function startServer(mode: 'webhook' | 'node-https', certFile: string, keyFile: string) {
  const child = fork(
    fileURLToPath(new URL('./injector-server.ts', import.meta.url)),
    [mode, certFile, keyFile],
    {
      execArgv: ['--conditions=@minimesh/source'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'], // its info logs would mix with the result
    },
  )
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port))
    child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)))
  })
  return { port, stop: () => child.kill() }
}

function client(port: number, ca: string, connections: number, expectPatch: boolean) {
  const pool = new Pool(`https://127.0.0.1:${port}`, {
    connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    connect: { ca, servername: 'localhost' },
  })
  // Distinct uids, bodies prepared up front: the load process should spend its time on the wire.
  const bodies = Array.from({ length: 256 }, (_, i) =>
    JSON.stringify(productpageReview(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`)),
  )
  const state = { errors: 0, n: 0 }
  const one = async (): Promise<void> => {
    const res = await pool.request({
      path: '/inject',
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: bodies[state.n++ % bodies.length],
    })
    const text = await res.body.text()
    if (res.statusCode !== 200) {
      state.errors++
      return
    }
    const r = (JSON.parse(text) as { response: { allowed: boolean; patch?: string } }).response
    if (!r.allowed || (expectPatch && !r.patch)) state.errors++
  }
  return { one, state, close: () => pool.close() }
}

/** Closed loop: `concurrency` reviews in flight for `seconds`. */
async function closedLoop(c: ReturnType<typeof client>, concurrency: number, seconds: number) {
  const lat: number[] = []
  const until = performance.now() + seconds * 1000
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const s = performance.now()
        await c.one()
        lat.push(performance.now() - s)
      }
    }),
  )
  return { lat, elapsed: (performance.now() - t0) / 1000 }
}

/** Open loop: one review every 1/rate s; latency from the scheduled send time. */
async function openLoop(c: ReturnType<typeof client>, rate: number, seconds: number) {
  const lat: number[] = []
  const pending: Promise<void>[] = []
  const total = rate * seconds
  const t0 = performance.now()
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate
    const wait = due - performance.now()
    if (wait > 1) await new Promise((r) => setTimeout(r, wait))
    pending.push(c.one().then(() => void lat.push(performance.now() - due)))
  }
  await Promise.all(pending)
  return { lat, elapsed: (performance.now() - t0) / 1000 }
}

interface Run {
  concurrency?: number
  offered_per_s?: number
  admissions_per_s: number
  p50_ms: number
  p99_ms: number
  p999_ms: number
  errors: number
}

function summary(lat: number[], elapsed: number, errors: number): Run {
  lat.sort((a, b) => a - b)
  return {
    admissions_per_s: Math.round(lat.length / elapsed),
    p50_ms: round(percentile(lat, 50)),
    p99_ms: round(percentile(lat, 99)),
    p999_ms: round(percentile(lat, 99.9)),
    errors,
  }
}

async function throughput(port: number, ca: string, concurrency: number, expectPatch: boolean): Promise<Run> {
  const c = client(port, ca, concurrency, expectPatch)
  await closedLoop(c, concurrency, WARMUP_S)
  c.state.errors = 0
  const { lat, elapsed } = await closedLoop(c, concurrency, MEASURE_S)
  await c.close()
  return { concurrency, ...summary(lat, elapsed, c.state.errors) }
}

async function latencyAtRate(port: number, ca: string, rate: number, expectPatch: boolean): Promise<Run> {
  const c = client(port, ca, 32, expectPatch)
  await openLoop(c, rate, WARMUP_S)
  c.state.errors = 0
  const { lat, elapsed } = await openLoop(c, rate, MEASURE_S)
  await c.close()
  return { offered_per_s: rate, ...summary(lat, elapsed, c.state.errors) }
}

const dir = mkdtempSync(join(tmpdir(), 'mm-bench-injector-'))
try {
  const certs = await generateCertificates({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] })
  writeFileSync(join(dir, 'tls.crt'), certs.cert)
  writeFileSync(join(dir, 'tls.key'), certs.key)

  const webhook = await startServer('webhook', join(dir, 'tls.crt'), join(dir, 'tls.key'))
  const sweep: Run[] = []
  for (const c of CONCURRENCY) {
    const r = await throughput(webhook.port, certs.caCert, c, true)
    console.error(`webhook    closed loop c=${c}: ${JSON.stringify(r)}`)
    sweep.push(r)
  }
  const atRate = await latencyAtRate(webhook.port, certs.caCert, RATE, true)
  console.error(`webhook    open loop ${RATE}/s: ${JSON.stringify(atRate)}`)
  webhook.stop()

  const peer = await startServer('node-https', join(dir, 'tls.crt'), join(dir, 'tls.key'))
  const floor = await throughput(peer.port, certs.caCert, PEER_CONCURRENCY, false)
  console.error(`node-https closed loop c=${PEER_CONCURRENCY}: ${JSON.stringify(floor)}`)
  const floorAtRate = await latencyAtRate(peer.port, certs.caCert, RATE, false)
  console.error(`node-https open loop ${RATE}/s: ${JSON.stringify(floorAtRate)}`)
  peer.stop()

  const most = (runs: Run[]) => runs.reduce((a, b) => (b.admissions_per_s > a.admissions_per_s ? b : a))
  const peak = most(sweep)
  const withinGoal = sweep.filter((r) => r.p99_ms <= 5)
  const head = withinGoal.length ? most(withinGoal) : peak
  const same = sweep.find((r) => r.concurrency === PEER_CONCURRENCY)!
  writeResult('injector', {
    admissions_per_s: head.admissions_per_s,
    p50_ms: head.p50_ms,
    p99_ms: head.p99_ms,
    concurrency: head.concurrency,
    peak_admissions_per_s: peak.admissions_per_s,
    peak_concurrency: peak.concurrency,
    errors: sweep.reduce((s, r) => s + r.errors, atRate.errors),
    goals: { admissions_per_s: '>= 2000', p99_ms: '<= 5' },
    met: { admissions_per_s: head.admissions_per_s >= 2000, p99_ms: head.p99_ms <= 5 },
    sweep,
    at_rate: atRate,
    peers: {
      'node-https-static': {
        ...floor,
        at_rate: floorAtRate,
        note: 'node:https + JSON.parse + a fixed review back: TLS, HTTP and JSON alone',
      },
    },
    ratio_to_node_https: round(same.admissions_per_s / floor.admissions_per_s, 2),
    review_bytes: JSON.stringify(productpageReview('x')).length,
    machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg_1m: round(loadavg()[0] ?? 0, 2) },
    seconds_per_run: MEASURE_S,
    note: 'one webhook process; load from a separate process (undici Pool, keep-alive) over loopback HTTPS on the same 2 cores',
  })
} finally {
  rmSync(dir, { recursive: true, force: true })
}
