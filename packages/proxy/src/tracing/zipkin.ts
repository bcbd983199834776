// Zipkin v2 JSON (POST /api/v2/spans, a JSON array of spans): https://zipkin.io/zipkin-api/.
// Timestamps and durations in microseconds; ids lower-case hex; tags string to string.
import {
  type FinishedSpan,
  type LocalNode,
  remoteServiceName,
  spanName,
  spanTags,
  splitHostPort,
} from './span.ts'

interface ZipkinEndpoint {
  serviceName?: string
  ipv4?: string
  ipv6?: string
  port?: number
}

interface ZipkinSpan {
  traceId: string
  id: string
  parentId?: string
  kind: 'CLIENT' | 'SERVER'
  name: string
  timestamp: number
  duration: number
  debug?: boolean
  localEndpoint: ZipkinEndpoint
  remoteEndpoint?: ZipkinEndpoint
  tags: Record<string, string>
}

function endpoint(ip: string, port: number | undefined, serviceName?: string): ZipkinEndpoint {
  const e: ZipkinEndpoint = {}
  if (serviceName) e.serviceName = serviceName
  if (ip.includes(':')) e.ipv6 = ip
  else if (ip) e.ipv4 = ip
  if (port) e.port = port
  return e
}

function toZipkin(span: FinishedSpan, node: LocalNode): ZipkinSpan {
  const z: ZipkinSpan = {
    traceId: span.traceId,
    id: span.spanId,
    kind: span.kind,
    name: spanName(span.rec),
    timestamp: span.startUs,
    duration: Math.max(1, span.durationUs),
    localEndpoint: endpoint(node.ip, undefined, node.serviceName),
    tags: spanTags(span, node),
  }
  if (span.parentId !== undefined) z.parentId = span.parentId
  if (span.debug) z.debug = true
  // The other side: the caller for a server span, the upstream host for a client span.
  const remote = splitHostPort(span.kind === 'SERVER' ? span.rec.downstreamRemote : span.rec.upstreamHost)
  const remoteName = remoteServiceName(span)
  if (remote || remoteName) z.remoteEndpoint = endpoint(remote?.ip ?? '', remote?.port, remoteName)
  return z
}

/** A batch as the body of POST /api/v2/spans. */
export function encodeZipkin(spans: readonly FinishedSpan[], node: LocalNode): string {
  return JSON.stringify(spans.map((s) => toZipkin(s, node)))
}
