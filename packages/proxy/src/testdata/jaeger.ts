// A real OTLP receiver for the tracing tests: Jaeger v2 (an OpenTelemetry Collector build with
// Jaeger's storage and query API), built from source by scripts/ensure-jaeger.sh into
// ~/.cache/minimesh/jaeger (`make test` runs that first; the tests never build it). Started on free
// loopback ports with in-memory storage: OTLP/HTTP in at /v1/traces, traces read back through
// Jaeger's own API (/api/v3/traces/{id}, OTLP's JSON in a `result` wrapper).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from './ports.ts'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../../..')

let binary: string | undefined
let missing: string | undefined

/** The binary of a current build, or undefined (then `missing` says why). Never builds. */
function jaegerBinary(): string | undefined {
  if (binary || missing) return binary
  try {
    binary = execFileSync('bash', [join(ROOT, 'scripts/ensure-jaeger.sh'), '--path'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim()
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim()
    missing = stderr || (err as Error).message
  }
  return binary
}

/**
 * Why the Jaeger tests cannot run here, or undefined. In CI (CI set) nothing is skipped: `make
 * test` builds Jaeger first, so a missing build is the test's failure, not a skip.
 */
export function jaegerSkipReason(): string | undefined {
  if (jaegerBinary() || process.env.CI) return undefined
  return missing
}

/** One span as Jaeger's API v3 gives it back (OTLP's JSON mapping: enums as numbers). */
export interface OtlpSpanJson {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  startTimeUnixNano: string
  endTimeUnixNano: string
  attributes?: { key: string; value: { stringValue?: string } }[]
  status?: { code?: number; message?: string }
}

/** A span with its resource's attributes and its own, as plain records. */
export interface ReceivedSpan {
  span: OtlpSpanJson
  resource: Record<string, string>
  attributes: Record<string, string>
}

export interface JaegerServer {
  /** OTLP/HTTP traces endpoint (POST). */
  otlpUrl: string
  /** Jaeger's query API and UI. */
  queryUrl: string
  /** The spans of a trace, flattened ([] when Jaeger has none). */
  trace(traceId: string): Promise<ReceivedSpan[]>
  /** Polls until the trace has at least `n` spans or the deadline passes. */
  waitForTrace(traceId: string, n: number, timeoutMs?: number): Promise<ReceivedSpan[]>
  close(): Promise<void>
}

type KeyValues = OtlpSpanJson['attributes']

function record(kv: KeyValues): Record<string, string> {
  return Object.fromEntries((kv ?? []).map((a) => [a.key, a.value.stringValue ?? JSON.stringify(a.value)]))
}

/** Starts Jaeger listening on `host` (default loopback); resolves when its health check says so. */
export async function startJaeger(options: { host?: string } = {}): Promise<JaegerServer> {
  const bin = jaegerBinary()
  if (!bin) throw new Error(`Jaeger is not built: ${missing}`)
  const host = options.host ?? '127.0.0.1'
  const [otlp, query, queryGrpc, health] = await Promise.all([1, 2, 3, 4].map(() => freePort(host)))
  const dir = mkdtempSync(join(tmpdir(), 'jaeger-'))
  const config = join(dir, 'config.yaml')
  // The all-in-one configuration cut to what the tests use: OTLP/HTTP in, memory storage, the query
  // API, a health check; no collector metrics endpoint (it would take a fixed port).
  writeFileSync(
    config,
    `service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: ${host}:${health}
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: ${host}:${query}
    grpc:
      endpoint: ${host}:${queryGrpc}
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 10000
receivers:
  otlp:
    protocols:
      http:
        endpoint: ${host}:${otlp}
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`,
  )
  const child: ChildProcess = spawn(bin, ['--config', config], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-6000)
  })
  const close = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        rmSync(dir, { recursive: true, force: true })
        resolve()
      }
      if (child.exitCode !== null || child.signalCode !== null) return done()
      child.once('exit', done)
      child.kill('SIGTERM')
      setTimeout(() => child.kill('SIGKILL'), 5000).unref()
    })
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) {
      await close()
      throw new Error(`jaeger exited ${child.exitCode}: ${stderr}`)
    }
    try {
      // Ready once every component says so (healthcheckv2's HTTP /status).
      const r = await fetch(`http://${host}:${health}/status`)
      if (r.ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await close()
      throw new Error(`jaeger did not come up in 60 s: ${stderr}`)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  const queryUrl = `http://${host}:${query}`
  const trace = async (traceId: string): Promise<ReceivedSpan[]> => {
    const r = await fetch(`${queryUrl}/api/v3/traces/${traceId}`)
    if (r.status === 404) return []
    const text = await r.text()
    if (!r.ok) throw new Error(`jaeger /api/v3/traces/${traceId}: ${r.status} ${text}`)
    const body = JSON.parse(text) as {
      result?: {
        resourceSpans?: { resource?: { attributes?: KeyValues }; scopeSpans?: { spans?: OtlpSpanJson[] }[] }[]
      }
    }
    return (body.result?.resourceSpans ?? []).flatMap((rs) =>
      (rs.scopeSpans ?? []).flatMap((ss) =>
        (ss.spans ?? []).map((span) => ({
          span,
          resource: record(rs.resource?.attributes),
          attributes: record(span.attributes),
        })),
      ),
    )
  }
  return {
    otlpUrl: `http://${host}:${otlp}/v1/traces`,
    queryUrl,
    trace,
    async waitForTrace(traceId, n, timeoutMs = 15_000) {
      const end = Date.now() + timeoutMs
      let spans: ReceivedSpan[] = []
      while (Date.now() < end) {
        spans = await trace(traceId)
        if (spans.length >= n) return spans
        await new Promise((r) => setTimeout(r, 200))
      }
      return spans
    },
    close,
  }
}
