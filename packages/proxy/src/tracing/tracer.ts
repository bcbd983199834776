// The proxy's tracer: per request, reads the incoming trace context, decides sampling (the caller's
// decision when one came, else this proxy's percentage), makes this proxy's span, and rewrites the
// trace headers sent on so that the next hop is its child; when the request is over, the sampled
// span goes to the exporter. Both halves are synchronous and allocate a few strings.
import type { Logger } from 'pino'
import { SpanExporter, type TraceFormat } from './exporter.ts'
import { newSpanId, newTraceId } from './ids.ts'
import { type OutgoingContext, readContext, writeContext } from './propagation.ts'
import type { ActiveSpan, FinishedSpan, LocalNode, SpanKind } from './span.ts'

export interface TracingOptions {
  /** Collector URL: Zipkin's /api/v2/spans or OTLP/HTTP's /v1/traces. */
  collector: string
  /** Default 'zipkin'. */
  format?: TraceFormat
  /** Percentage (0–100) of the traces this proxy starts that are sampled (Istio's default: 1). */
  sampling?: number
  maxQueue?: number
  batchSize?: number
  flushIntervalMs?: number
}

export const DEFAULT_SAMPLING = 1

/** Envoy's default collector path for each format. */
export const DEFAULT_COLLECTOR_PATH: Record<TraceFormat, string> = {
  zipkin: '/api/v2/spans',
  otlp: '/v1/traces',
}

export class Tracer {
  readonly sampling: number
  readonly exporter: SpanExporter
  /** Sampled spans started (for tests and /stats). */
  started = 0

  constructor(options: TracingOptions, node: LocalNode, log: Logger) {
    const sampling = options.sampling ?? DEFAULT_SAMPLING
    if (!(sampling >= 0 && sampling <= 100)) throw new RangeError(`tracing sampling ${sampling} is not 0–100`)
    this.sampling = sampling
    this.exporter = new SpanExporter({
      url: options.collector,
      format: options.format ?? 'zipkin',
      node,
      log,
      ...(options.maxQueue !== undefined ? { maxQueue: options.maxQueue } : {}),
      ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
      ...(options.flushIntervalMs !== undefined ? { flushIntervalMs: options.flushIntervalMs } : {}),
    })
  }

  /**
   * Starts this proxy's span for a request whose upstream headers are `headers` (rewritten in
   * place); returns it when sampled, else undefined (the unsampled decision still travels on).
   */
  start(headers: string[], kind: SpanKind): ActiveSpan | undefined {
    const inc = readContext(headers)
    const sampled = inc.sampled ?? (this.sampling >= 100 || Math.random() * 100 < this.sampling)
    const out: OutgoingContext = {
      traceId: inc.traceId ?? newTraceId(),
      spanId: newSpanId(),
      parentId: inc.traceId === undefined ? undefined : inc.spanId,
      sampled,
      debug: inc.debug,
      tracestate: inc.tracestate,
      single: inc.single,
    }
    writeContext(headers, out)
    if (!sampled) return undefined
    this.started++
    return { traceId: out.traceId, spanId: out.spanId, parentId: out.parentId, kind, debug: out.debug }
  }

  /** The request is over: its span joins the export queue. */
  finish(span: FinishedSpan): void {
    this.exporter.add(span)
  }

  close(): Promise<void> {
    return this.exporter.close()
  }
}
