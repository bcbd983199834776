// One proxy span: made when a sampled request starts (its ids), finished when the request's record
// is written (the record itself is kept, not copied: it does not change after that). Its name and
// tags are worked out only when a batch is encoded, off the request path.
import type { RequestRecord } from '../http/record.ts'

/** Envoy's span kinds for a proxy: a sidecar's inbound request is served, everything else is a call out. */
export type SpanKind = 'SERVER' | 'CLIENT'

export interface ActiveSpan {
  traceId: string
  spanId: string
  parentId: string | undefined
  kind: SpanKind
  debug: boolean
}

/** What this proxy is, for every span it sends (Zipkin's localEndpoint, OTLP's resource). */
export interface LocalNode {
  /** `<app>.<namespace>`, as Istio names a proxy's service in traces. */
  serviceName: string
  ip: string
  nodeId: string
  /** Istio's canonical service: the `service.istio.io/canonical-name` or `app` label, else the workload. */
  canonicalService: string
  namespace: string
}

export interface FinishedSpan extends ActiveSpan {
  rec: RequestRecord
  /** Start, microseconds since the epoch; duration, microseconds. */
  startUs: number
  durationUs: number
  /** The downstream peer's mTLS principal, if any. */
  peerPrincipal: string | undefined
}

/**
 * Istio's operation name (its route decorator): `<service host>:<port>/*`, from the cluster name
 * `outbound|<port>|<subset>|<host>` or the destination service; else the authority and path.
 */
export function spanName(rec: RequestRecord): string {
  const c = rec.upstreamCluster
  if (c?.startsWith('outbound|')) {
    const parts = c.split('|')
    if (parts.length === 4 && parts[3]) return `${parts[3]}:${parts[1]}/*`
  }
  const svc = rec.destinationService
  if (svc && !svc.includes('|')) {
    const port = c?.startsWith('inbound|') ? c.split('|')[1] : undefined
    return port ? `${svc}:${port}/*` : `${svc}/*`
  }
  const q = rec.path.indexOf('?')
  return `${rec.authority || '-'}${q < 0 ? rec.path : rec.path.slice(0, q)}`
}

/** Envoy's standard span tags (and Istio's), as strings. */
export function spanTags(span: FinishedSpan, node: LocalNode): Record<string, string> {
  const rec = span.rec
  const tags: Record<string, string> = {
    component: 'proxy',
    node_id: node.nodeId,
    'guid:x-request-id': rec.requestId,
    'http.url': `http://${rec.authority}${rec.path}`,
    'http.method': rec.method,
    'http.protocol': rec.protocol,
    'http.status_code': String(rec.status),
    downstream_cluster: '-',
    user_agent: rec.userAgent ?? '-',
    request_size: String(rec.bytesReceived),
    response_size: String(rec.bytesSent),
    response_flags: rec.flags || '-',
    'peer.address': rec.downstreamRemote,
    'istio.canonical_service': node.canonicalService,
    'istio.namespace': node.namespace,
  }
  if (rec.upstreamCluster) {
    tags.upstream_cluster = rec.upstreamCluster
    tags['upstream_cluster.name'] = rec.upstreamCluster
  }
  if (rec.upstreamHost) tags['upstream.address'] = rec.upstreamHost
  // The other side's mTLS identity: the caller's for a server span, the upstream's for a client span.
  const principal =
    span.kind === 'SERVER' ? (span.peerPrincipal ?? rec.downstreamPeerPrincipal) : rec.upstreamPeerPrincipal
  if (principal) tags['peer.principal'] = principal
  if (rec.source && span.kind === 'SERVER') tags['source.workload'] = rec.source.workload
  // Envoy marks a span as an error for 5xx and for no response at all.
  if (rec.status === 0 || rec.status >= 500) tags.error = 'true'
  return tags
}

/**
 * The other side's service name as Istio's proxies report it (`reviews.default`): for a client span
 * the destination service's name and namespace (from the cluster's host), for a server span the
 * calling workload's app and namespace (its peer metadata). Zipkin's remoteServiceName.
 */
export function remoteServiceName(span: FinishedSpan): string | undefined {
  const rec = span.rec
  if (span.kind === 'SERVER') {
    const src = rec.source
    return src ? `${src.labels.app ?? src.workload}.${src.namespace}` : undefined
  }
  const c = rec.upstreamCluster
  if (!c?.startsWith('outbound|')) return undefined
  const host = c.slice(c.lastIndexOf('|') + 1).split('.')
  return host.length >= 2 && host[0] && host[1] ? `${host[0]}.${host[1]}` : host[0] || undefined
}

/** Splits `ip:port` (an upstream host key or a downstream address) for an endpoint. */
export function splitHostPort(a: string | undefined): { ip: string; port: number | undefined } | undefined {
  if (!a) return undefined
  const i = a.lastIndexOf(':')
  if (i < 0 || a.indexOf(':') !== i) return { ip: a, port: undefined }
  const port = Number(a.slice(i + 1))
  return { ip: a.slice(0, i), port: Number.isInteger(port) ? port : undefined }
}
