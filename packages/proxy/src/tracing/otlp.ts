// OTLP/HTTP with the JSON encoding (POST /v1/traces, content-type application/json):
// ExportTraceServiceRequest of opentelemetry-proto, with the JSON mapping's rules (ids as hex, not
// base64; enums as numbers; 64-bit integers as strings). One resource (this proxy), one scope.
import { type FinishedSpan, type LocalNode, remoteServiceName, spanName, spanTags } from './span.ts'

/** opentelemetry.proto.trace.v1.Span.SpanKind */
const KIND = { SERVER: 2, CLIENT: 3 } as const
/** Status.StatusCode: UNSET, ERROR. */
const STATUS_UNSET = 0
const STATUS_ERROR = 2

interface KeyValue {
  key: string
  value: { stringValue: string }
}

interface OtlpSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  startTimeUnixNano: string
  endTimeUnixNano: string
  attributes: KeyValue[]
  status: { code: number }
}

function attrs(o: Record<string, string>): KeyValue[] {
  return Object.entries(o).map(([key, v]) => ({ key, value: { stringValue: v } }))
}

/** Microseconds (an integer below 2^53) as nanoseconds, in a string: the product does not fit a double. */
function nanos(us: number): string {
  return `${Math.round(us)}000`
}

function toOtlp(span: FinishedSpan, node: LocalNode): OtlpSpan {
  const tags = spanTags(span, node)
  const peer = remoteServiceName(span)
  if (peer) tags['peer.service'] = peer
  const o: OtlpSpan = {
    traceId: span.traceId,
    spanId: span.spanId,
    name: spanName(span.rec),
    kind: KIND[span.kind],
    startTimeUnixNano: nanos(span.startUs),
    endTimeUnixNano: nanos(span.startUs + Math.max(1, span.durationUs)),
    attributes: attrs(tags),
    status: { code: tags.error === 'true' ? STATUS_ERROR : STATUS_UNSET },
  }
  if (span.parentId !== undefined) o.parentSpanId = span.parentId
  return o
}

/** A batch as the body of POST /v1/traces. */
export function encodeOtlp(spans: readonly FinishedSpan[], node: LocalNode): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: {
          attributes: attrs({
            'service.name': node.serviceName,
            'service.instance.id': node.nodeId,
            'k8s.namespace.name': node.namespace,
          }),
        },
        scopeSpans: [{ scope: { name: 'minimesh-proxy' }, spans: spans.map((s) => toOtlp(s, node)) }],
      },
    ],
  })
}
