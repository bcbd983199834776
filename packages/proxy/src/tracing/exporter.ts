// Batched export to a collector, off the request path. A finished span is pushed on a bounded queue
// (a full queue drops it and counts the drop); a timer, or a queue that reaches a batch's size,
// sends a batch on a later turn of the event loop. One POST in flight at a time over a keep-alive
// connection; a batch the collector refuses or that times out is dropped and counted (a collector
// that is down never makes the proxy hold spans without bound). Envoy's Zipkin tracer works the
// same way (collector_flush_interval, min_flush_spans, reports_dropped).
import http from 'node:http'
import https from 'node:https'
import type { Logger } from 'pino'
import type { MetricsSource } from '../admin/metrics.ts'
import { encodeOtlp } from './otlp.ts'
import type { FinishedSpan, LocalNode } from './span.ts'
import { encodeZipkin } from './zipkin.ts'

export type TraceFormat = 'zipkin' | 'otlp'

export interface ExporterOptions {
  /** Zipkin: http://host:9411/api/v2/spans; OTLP: http://host:4318/v1/traces. */
  url: string
  format: TraceFormat
  node: LocalNode
  log: Logger
  /** Spans held at most; more are dropped (default 4096). */
  maxQueue?: number
  /** Spans per POST at most, and a queue this long is sent at once (default 256). */
  batchSize?: number
  /** Longest a span waits in the queue (default 1000 ms). */
  flushIntervalMs?: number
  /** A POST that takes longer is dropped (default 5000 ms). */
  timeoutMs?: number
}

interface ExporterStats {
  sent: number
  droppedQueueFull: number
  droppedExportFailed: number
  reportsSent: number
  reportsFailed: number
}

export class SpanExporter implements MetricsSource {
  readonly stats: ExporterStats = {
    sent: 0,
    droppedQueueFull: 0,
    droppedExportFailed: 0,
    reportsSent: 0,
    reportsFailed: 0,
  }
  private queue: FinishedSpan[] = []
  private readonly url: URL
  private readonly encode: (spans: readonly FinishedSpan[], node: LocalNode) => string
  private readonly opts: Required<Omit<ExporterOptions, 'log'>> & { log: Logger }
  private readonly agent: http.Agent
  private readonly timer: NodeJS.Timeout
  private inflight: Promise<void> | undefined
  private scheduled = false
  private closed = false

  constructor(options: ExporterOptions) {
    this.opts = { maxQueue: 4096, batchSize: 256, flushIntervalMs: 1000, timeoutMs: 5000, ...options }
    this.url = new URL(options.url)
    this.encode = options.format === 'otlp' ? encodeOtlp : encodeZipkin
    this.agent =
      this.url.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, maxSockets: 1 })
        : new http.Agent({ keepAlive: true, maxSockets: 1 })
    this.timer = setInterval(() => this.flushSoon(), this.opts.flushIntervalMs)
    this.timer.unref()
  }

  /** On the request path: O(1), never waits. */
  add(span: FinishedSpan): void {
    if (this.queue.length >= this.opts.maxQueue || this.closed) {
      this.stats.droppedQueueFull++
      return
    }
    this.queue.push(span)
    if (this.queue.length >= this.opts.batchSize) this.flushSoon()
  }

  private flushSoon(): void {
    if (this.scheduled || this.inflight || this.queue.length === 0) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      void this.flush()
    })
  }

  /** Sends what is queued now, batch after batch; resolves when done (or dropped). */
  async flush(): Promise<void> {
    while (this.inflight) await this.inflight
    while (this.queue.length > 0) {
      const batch =
        this.queue.length <= this.opts.batchSize ? this.queue : this.queue.slice(0, this.opts.batchSize)
      this.queue = batch === this.queue ? [] : this.queue.slice(batch.length)
      this.inflight = this.send(batch)
      await this.inflight
      this.inflight = undefined
    }
  }

  private send(batch: FinishedSpan[]): Promise<void> {
    let body: string
    try {
      body = this.encode(batch, this.opts.node)
    } catch (err) {
      this.fail(batch.length, err)
      return Promise.resolve()
    }
    const mod = this.url.protocol === 'https:' ? https : http
    return new Promise<void>((resolve) => {
      const req = mod.request(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          timeout: this.opts.timeoutMs,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume()
          res.on('end', () => {
            const code = res.statusCode ?? 0
            if (code >= 200 && code < 300) {
              this.stats.sent += batch.length
              this.stats.reportsSent++
            } else this.fail(batch.length, new Error(`collector answered ${code}`))
            resolve()
          })
          res.on('error', (err) => {
            this.fail(batch.length, err)
            resolve()
          })
        },
      )
      req.on('timeout', () => req.destroy(new Error(`no answer in ${this.opts.timeoutMs} ms`)))
      req.on('error', (err) => {
        this.fail(batch.length, err)
        resolve()
      })
      req.end(body)
    })
  }

  private fail(n: number, err: unknown): void {
    this.stats.droppedExportFailed += n
    this.stats.reportsFailed++
    // One line per failed batch at most; a collector that is down for long is logged at debug.
    const log = this.stats.reportsFailed <= 3 || this.stats.reportsFailed % 100 === 0 ? 'warn' : 'debug'
    this.opts.log[log]({ err, collector: this.url.href, spans: n }, 'trace export failed; spans dropped')
  }

  /** Sends what is left, then stops. */
  async close(): Promise<void> {
    clearInterval(this.timer)
    await this.flush()
    this.closed = true
    this.agent.destroy()
  }

  /** Prometheus text (appended to /stats/prometheus). */
  metrics(): string {
    const s = this.stats
    return [
      '# HELP minimesh_tracing_spans_sent_total Spans the collector accepted',
      '# TYPE minimesh_tracing_spans_sent_total counter',
      `minimesh_tracing_spans_sent_total ${s.sent}`,
      '# HELP minimesh_tracing_spans_dropped_total Spans dropped: queue full, or the collector refused or did not answer',
      '# TYPE minimesh_tracing_spans_dropped_total counter',
      `minimesh_tracing_spans_dropped_total{reason="queue_full"} ${s.droppedQueueFull}`,
      `minimesh_tracing_spans_dropped_total{reason="export_failed"} ${s.droppedExportFailed}`,
      '# HELP minimesh_tracing_reports_total Batches sent to the collector',
      '# TYPE minimesh_tracing_reports_total counter',
      `minimesh_tracing_reports_total{result="sent"} ${s.reportsSent}`,
      `minimesh_tracing_reports_total{result="failed"} ${s.reportsFailed}`,
      '# HELP minimesh_tracing_queue_spans Spans waiting to be sent',
      '# TYPE minimesh_tracing_queue_spans gauge',
      `minimesh_tracing_queue_spans ${this.queue.length}`,
      '',
    ].join('\n')
  }
}
