// The upstream side's HTTP/1.1 response parser, fed the bytes of one keep-alive connection: a
// head (status line and header fields, 1xx interim heads skipped), then a body framed by
// Content-Length, chunked transfer coding (with trailers) or the connection's close. The framing
// and its strictness are http/h1-codec.ts's; bytes after a response that no request asked for
// are an error too. Each error is a ProxyError (MESH_ERR_PROXY_UPSTREAM_PROTOCOL) and the
// connection is not used again. Header names are lower-cased, repeated ones gathered into arrays
// (the shape undici gives a dispatch handler).
import { ProxyError } from '../errors.ts'
import { H1Parser, isChunked, newFraming, parseFields, State, splitLines } from '../http/h1-codec.ts'

/** Largest response head (status line and fields), bytes. */
export const MAX_RESPONSE_HEAD = 64 * 1024

const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [\t\x20-\x7e\x80-\xff]*)?$/

export type ResponseHeaders = Record<string, string | string[]>

/** Who gets the parts of a response. Each call may end the exchange (the connection then stops the parser). */
export interface ResponseSink {
  onHead(status: number, headers: ResponseHeaders): void
  onBody(chunk: Buffer): void
  onEnd(trailers: ResponseHeaders): void
}

function protocolError(reason: string): ProxyError {
  return new ProxyError('MESH_ERR_PROXY_UPSTREAM_PROTOCOL', `malformed upstream response: ${reason}`)
}

/** Flat fields as undici gives them to a dispatch handler: repeated names gathered into arrays. */
function toRecord(flat: readonly string[]): ResponseHeaders {
  const out: ResponseHeaders = {}
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!
    if (name === '__proto__') continue
    const value = flat[i + 1]!
    const prev = out[name]
    if (prev === undefined) out[name] = value
    else if (typeof prev === 'string') out[name] = [prev, value]
    else prev.push(value)
  }
  return out
}

export class ResponseParser extends H1Parser {
  protected readonly maxHead = MAX_RESPONSE_HEAD
  protected readonly fail = protocolError
  private sink: ResponseSink | undefined
  private noBody = false
  /** The response allows the connection to be used again (set once its head is read). */
  keepAlive = false
  /** The server's Keep-Alive `timeout=` (seconds), if it sent one. */
  keepAliveTimeoutS: number | undefined

  /** Expects the response to a request just sent; `head`: it was a HEAD request (no body follows). */
  start(sink: ResponseSink, head: boolean): void {
    this.sink = sink
    this.noBody = head
    this.state = State.Head
    this.keepAlive = false
    this.keepAliveTimeoutS = undefined
    this.generation++
  }

  /** Stops delivering to the current sink (the exchange was aborted). */
  stop(): void {
    this.sink = undefined
    this.state = State.Idle
    this.pending = undefined
    this.generation++
  }

  /** Is the body framed by the connection's close (so a close ends it well)? */
  get untilClose(): boolean {
    return this.state === State.UntilClose
  }

  /** Is a response in progress or expected? */
  get busy(): boolean {
    return this.state !== State.Idle
  }

  /** The connection ended: completes a body framed by the close; false if a response was cut short. */
  finish(): boolean {
    if (this.state === State.Idle) return true
    if (this.state !== State.UntilClose) return false
    this.complete([], 0)
    return true
  }

  protected idleData(): never {
    throw protocolError('data after the response')
  }

  /** Bytes after a response that a sink's call (a new exchange, an abort) came before: dropped. */
  protected rest(): void {}

  protected onBody(chunk: Buffer): void {
    this.sink!.onBody(chunk)
  }

  protected onHeadText(head: string, leftover: number): void {
    const lines = splitLines(head, protocolError)
    const m = STATUS_LINE.exec(lines[0]!)
    if (!m) throw protocolError('bad status line')
    const status = Number(m[2])
    const framing = newFraming()
    const flat: string[] = []
    parseFields(lines, 1, flat, framing, protocolError)
    if (status < 200) {
      // 100 Continue, 102, 103: interim; the final head follows. 101 only answers an Upgrade.
      if (status === 101) throw protocolError('101 to a request without Upgrade')
      return
    }
    const http10 = m[1] === '0'
    this.keepAlive = http10 ? framing.keepAlive && !framing.close : !framing.close
    this.keepAliveTimeoutS = framing.keepAliveTimeoutS
    const chunked = isChunked(framing, http10, protocolError)
    if (framing.transferEncoding !== undefined && !chunked) this.keepAlive = false
    const noBody = this.noBody || status === 204 || status === 304
    const gen = this.generation
    this.sink!.onHead(status, toRecord(flat))
    if (this.generation !== gen) return
    if (noBody) this.complete([], leftover)
    else if (framing.transferEncoding !== undefined) this.state = chunked ? State.ChunkSize : State.UntilClose
    else if (framing.contentLength === 0) this.complete([], leftover)
    else if (framing.contentLength > 0) {
      this.remaining = framing.contentLength
      this.state = State.Length
    } else {
      this.keepAlive = false
      this.state = State.UntilClose
    }
  }

  /**
   * The response is whole. Bytes already read after it (`leftover`) were sent unasked: the
   * connection is not used again and they are dropped.
   */
  protected complete(trailers: string[], leftover: number): void {
    if (leftover > 0) this.keepAlive = false
    const sink = this.sink!
    this.sink = undefined
    this.state = State.Idle
    this.generation++
    sink.onEnd(toRecord(trailers))
  }
}
