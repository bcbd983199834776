// The downstream side's HTTP/1.1 request parser, fed the bytes of one client connection: a
// request line and header fields, then a body framed by Content-Length or chunked transfer
// coding (a request without either has none). The framing and its strictness are h1-codec.ts's;
// a request adds its own: the request line (a token method, a target without spaces or controls,
// HTTP/1.0 or 1.1), more than one Host, a Transfer-Encoding whose last coding is not chunked
// (a request cannot be framed by the connection's close). Each error is a ProxyError
// (MESH_ERR_PROXY_BAD_REQUEST), answered 400 by the server without the request being forwarded.
// Empty lines before a request line are skipped (RFC 9112 §2.2).
import { ProxyError } from '../errors.ts'
import { H1Parser, isChunked, newFraming, parseFields, State, splitLines } from './h1-codec.ts'

const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21-\x7e\x80-\xff]+) HTTP\/1\.([01])$/

export function badRequest(reason: string): ProxyError {
  return new ProxyError('MESH_ERR_PROXY_BAD_REQUEST', `malformed request: ${reason}`)
}

/** A request head as read. */
export interface RequestHead {
  method: string
  url: string
  /** '1.1' or '1.0'. */
  httpVersion: string
  /** Fields, flat: [name, value, …], names lower-case. */
  rawHeaders: string[]
  /** The connection may carry another request after this one. */
  keepAlive: boolean
  /** `Connection: upgrade` with an Upgrade field (HTTP/1.1): the connection becomes a tunnel. */
  upgrade: boolean
  /** A body follows (Content-Length > 0, or chunked). */
  hasBody: boolean
  /** `Expect: 100-continue` on a request with a body. */
  expectContinue: boolean
}

/** Who gets the parts of each request. */
export interface RequestSink {
  onRequest(head: RequestHead): void
  onRequestBody(chunk: Buffer): void
  onRequestEnd(): void
  /** Bytes read after a request that stopped the parser (`hold`), or after an Upgrade. */
  onRest(bytes: Buffer): void
}

export class RequestParser extends H1Parser {
  protected readonly maxHead: number
  protected readonly fail = badRequest
  private readonly sink: RequestSink

  constructor(sink: RequestSink, maxHead: number) {
    super()
    this.sink = sink
    this.maxHead = maxHead
    this.state = State.Head
  }

  /**
   * Stops the current execute() loop after this call: the bytes it had not reached go to the
   * sink's onRest (the server holds a pipelined request until the response before it is done).
   */
  hold(): void {
    this.generation++
  }

  /** Is a request's head or body still being read? */
  get reading(): boolean {
    return this.state !== State.Head || this.pending !== undefined
  }

  protected idleData(): never {
    throw badRequest('data after an upgrade')
  }

  protected rest(bytes: Buffer): void {
    this.sink.onRest(bytes)
  }

  protected onBody(chunk: Buffer): void {
    this.sink.onRequestBody(chunk)
  }

  protected onHeadText(text: string, leftover: number): void {
    let head = text
    // Empty lines before the request line (a client's CRLF after a previous body).
    while (head.charCodeAt(0) === 0x0d && head.charCodeAt(1) === 0x0a) head = head.slice(2)
    const lines = splitLines(head, badRequest)
    const m = REQUEST_LINE.exec(lines[0]!)
    if (!m) throw badRequest('bad request line')
    const framing = newFraming()
    const rawHeaders: string[] = []
    parseFields(lines, 1, rawHeaders, framing, badRequest)
    const http10 = m[3] === '0'
    const chunked = isChunked(framing, http10, badRequest)
    if (framing.transferEncoding !== undefined && !chunked)
      throw badRequest('transfer-encoding without chunked')
    let hosts = 0
    let upgradeField = false
    let expectContinue = false
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!
      if (name.length === 4 && name === 'host') hosts++
      else if (name === 'upgrade') upgradeField = true
      else if (name === 'expect') expectContinue = rawHeaders[i + 1]!.toLowerCase() === '100-continue'
    }
    if (hosts > 1) throw badRequest('more than one host')
    const hasBody = chunked || framing.contentLength > 0
    const upgrade = !http10 && framing.upgrade && upgradeField
    const gen = this.generation
    this.sink.onRequest({
      method: m[1]!,
      url: m[2]!,
      httpVersion: http10 ? '1.0' : '1.1',
      rawHeaders,
      keepAlive: http10 ? framing.keepAlive && !framing.close : !framing.close,
      upgrade,
      hasBody,
      expectContinue: expectContinue && hasBody && !http10,
    })
    if (upgrade) {
      // What follows belongs to the tunnel, whatever the head said about a body.
      this.state = State.Idle
      this.generation++
      return
    }
    if (this.generation !== gen) return
    if (chunked) this.state = State.ChunkSize
    else if (framing.contentLength > 0) {
      this.remaining = framing.contentLength
      this.state = State.Length
    } else this.complete([], leftover)
  }

  protected complete(_trailers: string[], _leftover: number): void {
    this.state = State.Head
    this.sink.onRequestEnd()
  }
}
