// The downstream side of a request: node:http's request and response for HTTP/1.x, or
// node:http2's compatibility-API ones for HTTP/2. Both have what the proxy uses (rawHeaders,
// url, writeHead with a flat header list, write/end with backpressure, 'close').
import type { IncomingMessage } from 'node:http'
import type { Http2ServerRequest } from 'node:http2'

export type DownstreamRequest = IncomingMessage | Http2ServerRequest

/** What ServerResponse and Http2ServerResponse both offer, as the proxy uses it. */
export interface DownstreamResponse {
  readonly headersSent: boolean
  /** Http2ServerResponse: not set (see isGone in forward.ts). */
  readonly destroyed: boolean
  writeHead(status: number, headers?: string[]): unknown
  setHeader(name: string, value: string): unknown
  write(chunk: Buffer): boolean
  end(): unknown
  end(chunk: Buffer): unknown
  destroy(err?: Error): unknown
  on(event: 'close', listener: () => void): unknown
  prependListener(event: 'close', listener: () => void): unknown
  once(event: 'close' | 'drain', listener: () => void): unknown
}
