// The downstream side of a request: h1-server.ts's request and response for HTTP/1.x, or
// node:http2's compatibility-API ones for HTTP/2. Both have what the proxy uses (rawHeaders,
// url, writeHead with a flat header list, write/end with backpressure, 'close'). HTTP/2 needs one
// thing more: a response that is a single HEADERS frame ending the stream (gRPC trailers-only).
import type { OutgoingHttpHeaders } from 'node:http'
import { constants, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2'
import type { H1Request } from './h1-server.ts'

export type DownstreamRequest = H1Request | Http2ServerRequest

/** What ServerResponse and Http2ServerResponse both offer, as the proxy uses it. */
export interface DownstreamResponse {
  readonly headersSent: boolean
  /** Http2ServerResponse: not set (RequestState.gone looks at its stream). */
  readonly destroyed: boolean
  writeHead(status: number, headers?: string[]): unknown
  write(chunk: Buffer): boolean
  end(): unknown
  end(chunk: Buffer): unknown
  destroy(err?: Error): unknown
  on(event: 'close', listener: () => void): unknown
  once(event: 'close' | 'drain', listener: () => void): unknown
}

/** Sends an HTTP/2 response as one HEADERS frame that ends the stream (gRPC's trailers-only form). */
export function respondEnded(res: Http2ServerResponse, status: number, flat: readonly string[]): void {
  const headers: OutgoingHttpHeaders = { ':status': status }
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!
    const prev = headers[name]
    const v = flat[i + 1]!
    headers[name] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [String(prev), v]
  }
  try {
    res.stream.respond(headers, { endStream: true })
  } catch {
    // A header HTTP/2 refuses (one a route's header ops added), or the stream is gone.
    res.stream.close(constants.NGHTTP2_INTERNAL_ERROR)
  }
}
