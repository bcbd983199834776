// Tracing: a stage right after the headers are read (so that every request, a local reply too,
// has its span) and the hook RequestState.finish calls where the access-log record is written.
// A sidecar's inbound request is a SERVER span, its outbound one a CLIENT span; the gateway's is a
// CLIENT span (Envoy's egress operation, as Istio's gateways report). Without a tracer both are a
// field read.
import type { FinishedSpan } from '../tracing/span.ts'
import type { RequestState } from './state.ts'

export function startSpan(s: RequestState): undefined {
  const tracer = s.ctx.tracer
  if (tracer !== undefined)
    s.span = tracer.start(s.headers, s.conn.direction === 'INBOUND' ? 'SERVER' : 'CLIENT')
  return undefined
}

/** The request is over (its record complete): the sampled span goes to the export queue. */
export function finishSpan(s: RequestState, durationMs: number): void {
  const span = s.span
  const tracer = s.ctx.tracer
  if (span === undefined || tracer === undefined) return
  const finished: FinishedSpan = {
    traceId: span.traceId,
    spanId: span.spanId,
    parentId: span.parentId,
    kind: span.kind,
    debug: span.debug,
    rec: s.rec,
    startUs: Math.round((performance.timeOrigin + s.rec.startMs) * 1000),
    durationUs: Math.round(durationMs * 1000),
    peerPrincipal: s.conn.peerPrincipal,
  }
  tracer.finish(finished)
}
