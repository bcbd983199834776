// Envoy's "local reply": every answer the proxy makes itself (no route, no cluster, policy
// denial, fault abort, redirect, direct response, no healthy upstream, overflow, upstream
// failure, timeout, a stage that failed) is written here, and only here. The record gets the
// status and flag (metrics and access log keep the HTTP status the reply stands for); a gRPC
// request gets a gRPC error (HTTP 200, grpc-status mapped from the status, grpc-message); an
// Upgrade gets a raw HTTP/1.1 answer and its connection closed.
import { STATUS_CODES } from 'node:http'
import { Http2ServerResponse } from 'node:http2'
import { ProxyError } from '../errors.ts'
import { respondEnded } from '../http/downstream.ts'
import { grpcReplyHeaders } from '../http/grpc.ts'
import { addFlag } from '../http/record.ts'
import type { RequestState } from './state.ts'

export interface LocalReply {
  status: number
  body: string
  /** Envoy response flag for the access log and metrics ('' = none). */
  flag: string
  /** Headers added to the reply (a redirect's location, a policy's headers), flat. */
  headers?: readonly string[] | undefined
  /** A redirect: sent as it is (never turned into a gRPC error), without a body. */
  redirect?: boolean | undefined
}

/** Answers the request on whichever end it came from. */
export function sendLocalReply(s: RequestState, r: LocalReply): void {
  const rec = s.rec
  if (r.flag) addFlag(rec, r.flag)
  rec.status = r.status
  const res = s.res
  if (!res) {
    replyOnTunnel(s, r)
    return
  }
  if (res.headersSent || s.gone()) {
    res.destroy()
    return
  }
  if (r.redirect) {
    res.writeHead(r.status, [...(r.headers ?? []), 'content-length', '0'])
    res.end()
    return
  }
  if (rec.grpc) {
    const headers = grpcReplyHeaders(r.status, r.body || `HTTP status ${r.status}`, rec.requestId)
    if (r.headers) headers.push(...r.headers)
    if (res instanceof Http2ServerResponse) respondEnded(res, 200, headers)
    else {
      res.writeHead(200, headers)
      res.end()
    }
    return
  }
  const buf = Buffer.from(r.body)
  const headers = [
    'content-type',
    'text/plain',
    'content-length',
    String(buf.length),
    'x-request-id',
    rec.requestId,
  ]
  if (r.headers) headers.push(...r.headers)
  res.writeHead(r.status, headers)
  res.end(buf)
  rec.bytesSent = buf.length
}

/** An Upgrade answered by the proxy: a plain HTTP/1.1 response, then the connection closes. */
function replyOnTunnel(s: RequestState, r: LocalReply): void {
  const socket = s.tunnel!.socket
  const body = r.redirect ? '' : r.body
  const len = Buffer.byteLength(body)
  let head = `HTTP/1.1 ${r.status} ${STATUS_CODES[r.status] ?? 'Unknown'}\r\n`
  const flat = r.redirect ? [] : ['content-type', 'text/plain', 'x-request-id', s.rec.requestId]
  if (r.headers) flat.push(...r.headers)
  flat.push('content-length', String(len), 'connection', 'close')
  for (let i = 0; i < flat.length; i += 2) head += `${flat[i]}: ${flat[i + 1]}\r\n`
  if (!socket.destroyed) socket.end(`${head}\r\n${body}`)
  s.rec.bytesSent = len
  s.finish()
}

/**
 * A stage failed: a policy hook that threw answers 500 (as Envoy's ext_authz does on error), a
 * client that broke off mid-body is let go, anything else is a defect: logged, answered 500.
 */
export function failRequest(s: RequestState, err: unknown): void {
  const code = err instanceof ProxyError ? err.code : undefined
  if (code === 'MESH_ERR_PROXY_DOWNSTREAM_RESET') {
    if (s.res) s.res.destroy()
    else s.tunnel!.socket.destroy()
    return
  }
  if (code === 'MESH_ERR_PROXY_POLICY') {
    s.ctx.log.error({ err }, 'inbound policy failed')
    sendLocalReply(s, { status: 500, body: 'policy check failed', flag: '' })
    return
  }
  s.ctx.log.error({ err, code: 'MESH_ERR_PROXY_STAGE' }, 'request stage failed')
  sendLocalReply(s, { status: 500, body: 'internal error', flag: '' })
}
