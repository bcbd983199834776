/**
 * The proxy's span encoders beside the OpenTelemetry JS SDK's serialization, per span, in the same
 * run: the issue asks for the well-kept library where it fits the budget, so this is the measure.
 *
 * - minimesh: encodeOtlp / encodeZipkin on a batch of FinishedSpans (a request record and ids):
 *   Envoy's tags worked out, the wire objects built, JSON.stringify, then UTF-8 bytes (what the
 *   exporter's POST writes).
 * - sdk: @opentelemetry/otlp-transformer's JsonTraceSerializer (what exporter-trace-otlp-http sends)
 *   and ProtobufTraceSerializer (exporter-trace-otlp-proto), and @opentelemetry/exporter-zipkin's
 *   transform (toZipkinSpan, the module the ZipkinExporter sends through; the package exports only
 *   the exporter, so it is loaded from its dist by path) followed by the JSON.stringify its sender does.
 *   Each twice: on ReadableSpans already made (the serializer alone: what an application
 *   instrumented with the SDK pays), and with the proxy's conversion to ReadableSpans first (the
 *   same tags, as attributes, plus the SDK's span shape: what the proxy would pay to use it).
 *
 * CPU time (process.cpuUsage) per span over batches of 256, the exporter's batch size.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  encodeOtlp,
  encodeZipkin,
  type FinishedSpan,
  type LocalNode,
  remoteServiceName,
  spanName,
  spanTags,
} from '@minimesh/proxy'
import { type Attributes, type HrTime, SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer'
import { resourceFromAttributes } from '@opentelemetry/resources'
import type { ReadableSpan } from '@opentelemetry/sdk-trace'
import { round } from './stats.ts'

const BATCH = 256
const ROUNDS = 400

interface ZipkinTransform {
  toZipkinSpan(span: ReadableSpan, serviceName: string, statusCodeTag: string, errorTag: string): unknown
}

/** exporter-zipkin's own transform module (not in its exports map), next to its entry point. */
async function zipkinTransform(): Promise<ZipkinTransform> {
  const entry = import.meta.resolve('@opentelemetry/exporter-zipkin')
  return (await import(new URL('./transform.mjs', entry).href)) as ZipkinTransform
}

/** A dependency's version, from the package.json above its entry point (not in its exports map). */
function versionOf(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.resolve(name)))
  for (;;) {
    const file = join(dir, 'package.json')
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string }
      if (pkg.name === name) return pkg.version ?? '?'
    }
    if (dirname(dir) === dir) return '?'
    dir = dirname(dir)
  }
}

function hr(us: number): HrTime {
  const s = Math.floor(us / 1e6)
  return [s, Math.round((us - s * 1e6) * 1000)]
}

/** What the proxy would do to hand a finished span to the SDK's serializers. */
function toReadableSpans(spans: readonly FinishedSpan[], node: LocalNode): ReadableSpan[] {
  const resource = resourceFromAttributes({
    'service.name': node.serviceName,
    'service.instance.id': node.nodeId,
    'k8s.namespace.name': node.namespace,
  })
  const instrumentationScope = { name: 'minimesh-proxy' }
  return spans.map((s) => {
    const attributes: Attributes = spanTags(s, node)
    const peer = remoteServiceName(s)
    if (peer) attributes['peer.service'] = peer
    const context = { traceId: s.traceId, spanId: s.spanId, traceFlags: 1 }
    const duration = Math.max(1, s.durationUs)
    return {
      name: spanName(s.rec),
      kind: s.kind === 'SERVER' ? SpanKind.SERVER : SpanKind.CLIENT,
      spanContext: () => context,
      ...(s.parentId !== undefined
        ? { parentSpanContext: { traceId: s.traceId, spanId: s.parentId, traceFlags: 1, isRemote: true } }
        : {}),
      startTime: hr(s.startUs),
      endTime: hr(s.startUs + duration),
      duration: hr(duration),
      status: { code: attributes.error === 'true' ? SpanStatusCode.ERROR : SpanStatusCode.UNSET },
      attributes,
      links: [],
      events: [],
      ended: true,
      resource,
      instrumentationScope,
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    }
  })
}

/** CPU µs per span of `encode` over a batch, after a warm-up. */
function usPerSpan(encode: () => { length: number }): number {
  for (let i = 0; i < ROUNDS / 4; i++) encode()
  const t0 = process.cpuUsage()
  for (let i = 0; i < ROUNDS; i++) encode()
  const d = process.cpuUsage(t0)
  return round((d.user + d.system) / ROUNDS / BATCH, 2)
}

const utf8 = new TextEncoder()

interface OtlpJsonSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  startTimeUnixNano: string
  endTimeUnixNano: string
  attributes: KeyValues
}
type KeyValues = { key: string; value: { stringValue?: string } }[]

/** The first span of an OTLP JSON body, as the fields both encoders must agree on. */
function firstSpan(body: string): Record<string, unknown> {
  const req = JSON.parse(body) as {
    resourceSpans: { resource: { attributes: KeyValues }; scopeSpans: { spans: OtlpJsonSpan[] }[] }[]
  }
  const rs = req.resourceSpans[0]!
  const s = rs.scopeSpans[0]!.spans[0]!
  const kv = (a: KeyValues) =>
    Object.fromEntries(
      a.map((x) => [x.key, x.value.stringValue]).sort(([a], [b]) => String(a).localeCompare(String(b))),
    )
  return {
    resource: kv(rs.resource.attributes),
    ids: [s.traceId, s.spanId, s.parentSpanId],
    name: s.name,
    kind: s.kind,
    times: [s.startTimeUnixNano, s.endTimeUnixNano],
    attributes: kv(s.attributes),
  }
}

export async function tracingEncoders(
  batch: readonly FinishedSpan[],
  node: LocalNode,
): Promise<Record<string, unknown>> {
  if (batch.length !== BATCH) throw new Error(`a batch of ${BATCH} spans, not ${batch.length}`)
  const zipkin = await zipkinTransform()
  const ready = toReadableSpans(batch, node)
  const sdkZipkin = (spans: ReadableSpan[]) =>
    utf8.encode(
      JSON.stringify(spans.map((s) => zipkin.toZipkinSpan(s, node.serviceName, 'otel.status_code', 'error'))),
    )
  const bytes = (b: { length: number }) => Math.round(b.length / BATCH)
  // Like for like: the SDK's OTLP JSON of the converted spans says what ours says.
  const ours = firstSpan(encodeOtlp(batch, node))
  const theirs = firstSpan(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(ready)!))
  if (JSON.stringify(ours) !== JSON.stringify(theirs))
    throw new Error(`the SDK's OTLP JSON differs:\n${JSON.stringify(ours)}\n${JSON.stringify(theirs)}`)
  const figures = {
    otlp_json: {
      minimesh: usPerSpan(() => utf8.encode(encodeOtlp(batch, node))),
      sdk_serializer_only: usPerSpan(() => JsonTraceSerializer.serializeRequest(ready)!),
      sdk_with_conversion: usPerSpan(
        () => JsonTraceSerializer.serializeRequest(toReadableSpans(batch, node))!,
      ),
    },
    otlp_protobuf: {
      sdk_serializer_only: usPerSpan(() => ProtobufTraceSerializer.serializeRequest(ready)!),
      sdk_with_conversion: usPerSpan(
        () => ProtobufTraceSerializer.serializeRequest(toReadableSpans(batch, node))!,
      ),
    },
    zipkin_v2_json: {
      minimesh: usPerSpan(() => utf8.encode(encodeZipkin(batch, node))),
      sdk_serializer_only: usPerSpan(() => sdkZipkin(ready)),
      sdk_with_conversion: usPerSpan(() => sdkZipkin(toReadableSpans(batch, node))),
    },
  }
  return {
    unit: 'CPU µs per span (process.cpuUsage), batches of 256',
    ...figures,
    ratio_sdk_with_conversion_vs_minimesh: {
      otlp_json: round(figures.otlp_json.sdk_with_conversion / figures.otlp_json.minimesh, 2),
      zipkin_v2_json: round(figures.zipkin_v2_json.sdk_with_conversion / figures.zipkin_v2_json.minimesh, 2),
    },
    bytes_per_span: {
      otlp_json: {
        minimesh: bytes(utf8.encode(encodeOtlp(batch, node))),
        sdk: bytes(JsonTraceSerializer.serializeRequest(ready)!),
      },
      otlp_protobuf: { sdk: bytes(ProtobufTraceSerializer.serializeRequest(ready)!) },
      zipkin_v2_json: {
        minimesh: bytes(utf8.encode(encodeZipkin(batch, node))),
        sdk: bytes(sdkZipkin(ready)),
      },
    },
    packages: Object.fromEntries(
      ['@opentelemetry/otlp-transformer', '@opentelemetry/exporter-zipkin', '@opentelemetry/sdk-trace'].map(
        (name) => [name, versionOf(name)],
      ),
    ),
  }
}
