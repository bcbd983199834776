// Stage 1, headers and facts: the request's headers copied once into the upstream list (hop-by-hop
// dropped), the headers the proxy acts on noted, the proxy's own added (x-request-id when absent,
// x-forwarded-for/-proto, the peer metadata of this workload), the view routes match against, and
// who calls whom for metrics.
import { randomUUID } from 'node:crypto'
import { Http2ServerRequest } from 'node:http2'
import { decodePeer, type WorkloadIdentity } from '../context.ts'
import type { DownstreamRequest } from '../http/downstream.ts'
import { isGrpcContentType } from '../http/grpc.ts'
import { copyRequestHeaders, PEER_HEADER } from '../http/headers.ts'
import type { PeerInfo } from '../http/record.ts'
import { refreshChain } from '../listeners/conn.ts'
import type { RequestView } from '../routing/match.ts'
import type { RequestState } from './state.ts'

/**
 * What routes match against. Node builds a request's header object on first use: it is made
 * only when a route (or a hash policy) looks at a header.
 */
class View implements RequestView {
  readonly method: string
  readonly path: string
  readonly query: string
  readonly authority: string
  readonly port: number
  params: URLSearchParams | undefined = undefined
  private readonly req: DownstreamRequest

  constructor(req: DownstreamRequest, method: string, url: string, authority: string, port: number) {
    this.req = req
    this.method = method
    const q = url.indexOf('?')
    this.path = q < 0 ? url : url.slice(0, q)
    this.query = q < 0 ? '' : url.slice(q + 1)
    this.authority = authority
    this.port = port
  }

  get headers(): Record<string, string | string[] | undefined> {
    return this.req.headers
  }
}

/** This workload as the source of its outbound requests (metrics), made once per identity. */
const selfPeers = new WeakMap<WorkloadIdentity, PeerInfo>()

function selfPeer(id: WorkloadIdentity): PeerInfo {
  let p = selfPeers.get(id)
  if (!p) {
    p = { workload: id.workload, namespace: id.namespace, labels: id.labels }
    selfPeers.set(id, p)
  }
  return p
}

export function readFacts(s: RequestState): undefined {
  const { req, rec, facts, conn, ctx } = s
  refreshChain(ctx.store.current, conn)
  const headers = copyRequestHeaders(req.rawHeaders, facts)
  s.headers = headers
  rec.grpc = isGrpcContentType(facts.contentType)
  // HTTP/2 has no chunked coding: a body without content-length is there unless the request's
  // HEADERS frame ended the stream.
  if (req instanceof Http2ServerRequest && facts.contentLength === undefined && !req.stream.endAfterHeaders)
    facts.chunked = true
  const authority = facts.host ?? ''
  s.view = new View(req, rec.method, s.path, authority, conn.originalPort)
  rec.authority = authority
  rec.userAgent = facts.userAgent
  if (facts.requestId === undefined) {
    facts.requestId = randomUUID()
    headers.push('x-request-id', facts.requestId)
  }
  rec.requestId = facts.requestId
  if (conn.direction !== 'OUTBOUND') {
    const xff =
      facts.forwardedFor === undefined ? conn.remoteAddress : `${facts.forwardedFor}, ${conn.remoteAddress}`
    headers.push('x-forwarded-for', xff)
    rec.forwardedFor = xff
  } else if (facts.forwardedFor !== undefined) {
    headers.push('x-forwarded-for', facts.forwardedFor)
    rec.forwardedFor = facts.forwardedFor
  }
  if (facts.forwardedProto === undefined)
    headers.push('x-forwarded-proto', conn.security === 'tls' ? 'https' : 'http')
  const id = ctx.identity
  if (conn.direction === 'INBOUND') {
    rec.source = decodePeer(facts.peer)
    rec.destinationWorkload = id.workload
    rec.destinationVersion = id.labels.version
  } else {
    rec.source = selfPeer(id)
    headers.push(PEER_HEADER, ctx.peerHeader)
  }
  return undefined
}
