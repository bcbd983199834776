// Stage 1, headers and facts: the request's headers copied once into the upstream list (hop-by-hop
// dropped), the headers the proxy acts on noted, the proxy's own added (x-request-id when absent,
// x-forwarded-for/-proto, the peer metadata of this workload), the view routes match against, and
// who calls whom for metrics.
import { randomUUID } from 'node:crypto'
import { Http2ServerRequest } from 'node:http2'
import { decodePeer } from '../context.ts'
import { isGrpcContentType } from '../http/grpc.ts'
import { copyRequestHeaders, PEER_HEADER } from '../http/headers.ts'
import type { RequestState } from './state.ts'

export function readFacts(s: RequestState): undefined {
  const { req, rec, facts, conn, ctx } = s
  const headers = copyRequestHeaders(req.rawHeaders, facts)
  s.headers = headers
  rec.grpc = isGrpcContentType(req.headers['content-type'])
  // HTTP/2 has no chunked coding: a body without content-length is there unless the request's
  // HEADERS frame ended the stream.
  if (req instanceof Http2ServerRequest && facts.contentLength === undefined && !req.stream.endAfterHeaders)
    facts.chunked = true
  const url = s.path
  const q = url.indexOf('?')
  s.view = {
    method: rec.method,
    path: q < 0 ? url : url.slice(0, q),
    query: q < 0 ? '' : url.slice(q + 1),
    authority: facts.host ?? '',
    headers: req.headers,
    port: conn.originalPort,
  }
  rec.authority = s.view.authority
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
  if (facts.forwardedProto === undefined) headers.push('x-forwarded-proto', 'http')
  const id = ctx.identity
  if (conn.direction === 'INBOUND') {
    rec.source = decodePeer(facts.peer)
    rec.destinationWorkload = id.workload
    rec.destinationVersion = id.labels.version
  } else {
    rec.source = { workload: id.workload, namespace: id.namespace, labels: id.labels }
    headers.push(PEER_HEADER, ctx.peerHeader)
  }
  return undefined
}
