/**
 * Tracing's cost per request inside the proxy, measured in-process as CPU time (process.cpuUsage,
 * so other load on a shared machine matters less than to wall-clock figures): the `startSpan`
 * stage (read the trace context, decide, make ids, rewrite the trace headers) for a request that
 * starts a trace at 0% / 1% / 100% sampling and for one that joins a sampled caller; the finishing
 * hook (a span onto the export queue); and the encoders per span (run when a batch is sent, off the
 * request path).
 */
import { randomBytes } from 'node:crypto'
import { encodeOtlp, encodeZipkin, type FinishedSpan, type LocalNode, Tracer } from '@minimesh/proxy'
import { round } from './stats.ts'

const N = 200_000
export const node: LocalNode = {
  serviceName: 'productpage.default',
  ip: '198.18.0.7',
  nodeId: 'sidecar~198.18.0.7~productpage-v1-0.default~default.svc.cluster.local',
  canonicalService: 'productpage',
  namespace: 'default',
}
/** A request's upstream headers as readFacts leaves them (before tracing). */
const HEADERS = [
  'host',
  'details:9080',
  'user-agent',
  'undici',
  'accept',
  '*/*',
  'x-request-id',
  'b6a1c3a0-5b8e-4b7c-9a47-2f3e1f0c9d11',
  'x-forwarded-proto',
  'http',
  'x-minimesh-peer',
  'eyJ3b3JrbG9hZCI6InByb2R1Y3RwYWdlLXYxIn0',
]
const JOIN = [...HEADERS, 'traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01']

function cpuNsPerOp(n: number, op: (i: number) => void): number {
  for (let i = 0; i < 20_000; i++) op(i) // warm-up (JIT)
  const t0 = process.cpuUsage()
  for (let i = 0; i < n; i++) op(i)
  const d = process.cpuUsage(t0)
  return round(((d.user + d.system) * 1000) / n, 0)
}

function record(): FinishedSpan['rec'] {
  return {
    startMs: performance.now(),
    startTime: Date.now(),
    direction: 'OUTBOUND',
    method: 'GET',
    path: '/details/0',
    authority: 'details:9080',
    protocol: 'HTTP/1.1',
    status: 200,
    flags: '',
    bytesReceived: 0,
    bytesSent: 178,
    requestId: 'b6a1c3a0-5b8e-4b7c-9a47-2f3e1f0c9d11',
    userAgent: 'undici',
    forwardedFor: undefined,
    downstreamRemote: '127.0.0.6',
    routeName: 'default',
    upstreamCluster: 'outbound|9080||details.default.svc.cluster.local',
    upstreamHost: '198.18.0.9:9080',
    upstreamServiceTimeMs: 1,
    attempts: 1,
    grpc: false,
    source: undefined,
    destinationService: 'details.default.svc.cluster.local',
    destinationWorkload: 'details-v1',
    destinationVersion: 'v1',
  } as FinishedSpan['rec']
}

/** 256 finished client spans of one request record (the exporter's batch size), each its own ids. */
export function sampleBatch(): FinishedSpan[] {
  const rec = record()
  return Array.from({ length: 256 }, () => ({
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    parentId: randomBytes(8).toString('hex'),
    kind: 'CLIENT' as const,
    debug: false,
    rec,
    startUs: Date.now() * 1000,
    durationUs: 1234,
    peerPrincipal: undefined,
  }))
}

export async function tracingHotPath(): Promise<Record<string, unknown>> {
  // The exporter logs only failed exports; none happen here.
  const quiet = () => {}
  const log = { warn: quiet, debug: quiet, info: quiet, error: quiet } as unknown as ConstructorParameters<
    typeof Tracer
  >[2]
  // A collector nobody listens on, and a flush interval longer than the run: nothing is sent.
  const mk = (sampling: number) =>
    new Tracer(
      { collector: 'http://127.0.0.1:9/api/v2/spans', sampling, flushIntervalMs: 3_600_000, maxQueue: N * 2 },
      node,
      log,
    )
  const start: Record<string, number> = {}
  for (const [name, sampling] of [
    ['new_trace_0pct', 0],
    ['new_trace_1pct', 1],
    ['new_trace_100pct', 100],
  ] as const) {
    const t = mk(sampling)
    start[name] = cpuNsPerOp(N, () => {
      t.start(HEADERS.slice(), 'CLIENT')
    })
    await t.close()
  }
  const join = mk(1)
  start.join_sampled_caller = cpuNsPerOp(N, () => {
    join.start(JOIN.slice(), 'SERVER')
  })
  await join.close()
  const copyOnly = cpuNsPerOp(N, () => {
    HEADERS.slice()
  })
  const t = mk(100)
  const rec = record()
  const span = t.start(HEADERS.slice(), 'CLIENT')!
  const finish = cpuNsPerOp(N, () => {
    t.finish({ ...span, rec, startUs: 1, durationUs: 1, peerPrincipal: undefined })
  })
  const batch = sampleBatch()
  const zipkin = round(cpuNsPerOp(2000, () => encodeZipkin(batch, node)) / batch.length, 0)
  const otlp = round(cpuNsPerOp(2000, () => encodeOtlp(batch, node)) / batch.length, 0)
  await t.close()
  return {
    unit: 'CPU ns per operation (in-process, process.cpuUsage)',
    start_span_stage: Object.fromEntries(Object.entries(start).map(([k, v]) => [k, round(v - copyOnly, 0)])),
    finish_hook: finish,
    encode_per_span: { zipkin_v2_json: zipkin, otlp_json: otlp },
    bytes_per_span: {
      zipkin_v2_json: Math.round(encodeZipkin(batch, node).length / batch.length),
      otlp_json: Math.round(encodeOtlp(batch, node).length / batch.length),
    },
  }
}
