// The service graph and each workload's golden metrics, built from per-series request rates. The
// same pure function serves both metric sources: rates that Prometheus computed with rate(), and
// rates the dashboard computed itself from two scrapes of every proxy.
//
// Which side's report counts for an edge (as Kiali): the client's (reporter="source") where the
// client has a sidecar, since it also sees requests that never reached the server (503 UO, NR);
// the server's (reporter="destination") where the client has none (source_workload="unknown").
import { histogramQuantile } from './histogram.ts'

/** A per-second rate of one minimesh_requests_total series (its labels as the proxy exports them). */
export interface RequestRate {
  labels: Record<string, string>
  rate: number
}

/** A per-second rate of one minimesh_request_duration_milliseconds_bucket series. */
export interface BucketRate {
  labels: Record<string, string>
  le: number
  rate: number
}

export interface GraphNode {
  /** The workload (`reviews-v2`), `unknown` for clients without a sidecar, `svc:<host>` for a service no workload answered for. */
  id: string
  workload: string
  version: string
  namespace: string
  kind: 'workload' | 'unknown' | 'service'
}

export interface GraphEdge {
  source: string
  destination: string
  /** The destination service's host (`reviews.default.svc.cluster.local`). */
  service: string
  reporter: 'source' | 'destination'
  /** Requests per second. */
  rps: number
  /** Share of requests answered without a 5xx (or a reset), 0..1; undefined without requests. */
  successRate: number | undefined
  /** 99th percentile of request duration, ms. */
  p99Ms: number | undefined
  /** Share of requests over mutual TLS (label connection_security_policy="mutual_tls"), 0..1. */
  mtls: number
}

interface Golden {
  rps: number
  successRate: number | undefined
  p99Ms: number | undefined
  /** inbound: what the workload's sidecar served; outbound: what it sent (a gateway, a client). */
  direction: 'inbound' | 'outbound'
}

export interface MeshGraph {
  nodes: GraphNode[]
  edges: GraphEdge[]
  workloads: Record<string, Golden>
}

const UNKNOWN = 'unknown'

function isFailure(code: string | undefined): boolean {
  return code === undefined || code === '0' || code.startsWith('5')
}

/** `reviews.default.svc.cluster.local` → `default`. */
function namespaceOf(service: string | undefined): string {
  const parts = (service ?? '').split('.')
  return parts.length >= 2 && parts[1] ? parts[1] : ''
}

interface Acc {
  rps: number
  ok: number
  mtls: number
  buckets: Map<number, number>
}

function newAcc(): Acc {
  return { rps: 0, ok: 0, mtls: 0, buckets: new Map() }
}

function finish(acc: Acc): { rps: number; successRate: number | undefined; p99Ms: number | undefined } {
  const p99 = histogramQuantile(
    0.99,
    [...acc.buckets].map(([le, value]) => ({ le, value })),
  )
  return {
    rps: acc.rps,
    successRate: acc.rps > 0 ? acc.ok / acc.rps : undefined,
    p99Ms: p99,
  }
}

function destinationId(l: Record<string, string>): string {
  const w = l.destination_workload
  if (w && w !== UNKNOWN) return w
  return l.destination_service && l.destination_service !== UNKNOWN ? `svc:${l.destination_service}` : UNKNOWN
}

function sourceId(l: Record<string, string>): string {
  return l.source_workload && l.source_workload !== '' ? l.source_workload : UNKNOWN
}

/** Builds the graph from request and bucket rates. Series with a zero rate still make nodes and edges (idle, 0 rps). */
export function buildGraph(requests: readonly RequestRate[], buckets: readonly BucketRate[]): MeshGraph {
  const nodes = new Map<string, GraphNode>()
  const addNode = (id: string, version: string | undefined, service: string | undefined) => {
    const existing = nodes.get(id)
    if (existing) {
      if (existing.version === UNKNOWN && version && version !== UNKNOWN) existing.version = version
      if (!existing.namespace && service) existing.namespace = namespaceOf(service)
      return
    }
    const kind = id === UNKNOWN ? 'unknown' : id.startsWith('svc:') ? 'service' : 'workload'
    nodes.set(id, {
      id,
      workload: kind === 'service' ? id.slice(4).split('.')[0]! : id,
      version: version ?? UNKNOWN,
      namespace: service ? namespaceOf(service) : '',
      kind,
    })
  }

  // Which edges have a client-side report: those use only it.
  const clientReported = new Set<string>()
  for (const r of requests)
    if (r.labels.reporter === 'source')
      clientReported.add(`${sourceId(r.labels)}\x00${destinationId(r.labels)}`)
  const useSeries = (l: Record<string, string>): boolean => {
    const key = `${sourceId(l)}\x00${destinationId(l)}`
    return l.reporter === 'source' || !clientReported.has(key)
  }

  const edges = new Map<
    string,
    Acc & { source: string; destination: string; service: string; reporter: string }
  >()
  const inbound = new Map<string, Acc>()
  const outbound = new Map<string, Acc>()
  const acc = (m: Map<string, Acc>, k: string) => {
    const a = m.get(k) ?? newAcc()
    m.set(k, a)
    return a
  }
  const add = (a: Acc, r: RequestRate) => {
    a.rps += r.rate
    if (!isFailure(r.labels.response_code)) a.ok += r.rate
    if (r.labels.connection_security_policy === 'mutual_tls') a.mtls += r.rate
  }

  for (const r of requests) {
    const l = r.labels
    const src = sourceId(l)
    const dst = destinationId(l)
    // A server's sidecar (reporter destination) measures what its workload served; a client's or
    // the gateway's (reporter source) what it sent.
    add(l.reporter === 'destination' ? acc(inbound, dst) : acc(outbound, src), r)
    addNode(src, l.source_version, undefined)
    addNode(dst, l.destination_version, l.destination_service)
    if (!useSeries(l)) continue
    const key = `${src}\x00${dst}`
    let e = edges.get(key)
    if (!e) {
      e = {
        ...newAcc(),
        source: src,
        destination: dst,
        service: l.destination_service ?? '',
        reporter: l.reporter ?? '',
      }
      edges.set(key, e)
    }
    add(e, r)
  }
  for (const b of buckets) {
    const l = b.labels
    const src = sourceId(l)
    const dst = destinationId(l)
    const target =
      l.reporter === 'destination'
        ? inbound.get(dst)
        : l.reporter === 'source'
          ? outbound.get(src)
          : undefined
    if (target) target.buckets.set(b.le, (target.buckets.get(b.le) ?? 0) + b.rate)
    if (!useSeries(l)) continue
    const e = edges.get(`${src}\x00${dst}`)
    if (e) e.buckets.set(b.le, (e.buckets.get(b.le) ?? 0) + b.rate)
  }

  const workloads: Record<string, Golden> = {}
  for (const n of nodes.values()) {
    if (n.kind !== 'workload') continue
    const i = inbound.get(n.id)
    const o = outbound.get(n.id)
    if (i) workloads[n.id] = { ...finish(i), direction: 'inbound' }
    else if (o) workloads[n.id] = { ...finish(o), direction: 'outbound' }
  }

  return {
    nodes: [...nodes.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    edges: [...edges.values()]
      .map((e) => ({
        source: e.source,
        destination: e.destination,
        service: e.service,
        reporter: e.reporter === 'destination' ? ('destination' as const) : ('source' as const),
        ...finish(e),
        mtls: e.rps > 0 ? e.mtls / e.rps : 0,
      }))
      .sort((a, b) => (a.source + a.destination < b.source + b.destination ? -1 : 1)),
    workloads,
  }
}
