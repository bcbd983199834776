// The upstream side's HTTP/1.1 response parser (RFC 9112), fed the bytes of one keep-alive
// connection: a head (status line and header fields, 1xx interim heads skipped), then a body
// framed by Content-Length, chunked transfer coding (with trailers) or the connection's close.
// Strict where laxness lets a response be read two ways: a bare CR or LF, obs-fold, a header
// name that is not a token, a control character in a value, Content-Length with
// Transfer-Encoding, two different Content-Lengths, a head over the size limit, bytes after a
// response that no request asked for: each is a ProxyError (MESH_ERR_PROXY_UPSTREAM_PROTOCOL)
// and the connection is not used again. Body bytes are handed on as slices of what the socket
// read (no copy); header names are lower-cased, repeated ones gathered into arrays (the shape
// undici gives a dispatch handler).
import { ProxyError } from '../errors.ts'

/** Largest response head (status line and fields), bytes. */
export const MAX_RESPONSE_HEAD = 64 * 1024
/** Largest chunk-size line (size, extensions), bytes. */
const MAX_CHUNK_LINE = 1024

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
/** Field values: HTAB, visible ASCII, SP and obs-text (RFC 9110 §5.5); no CR, LF, NUL or other controls. */
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [\t\x20-\x7e\x80-\xff]*)?$/
const CRLF = Buffer.from('\r\n', 'latin1')
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1')

export type ResponseHeaders = Record<string, string | string[]>

/** Who gets the parts of a response. Each call may end the exchange (the connection then stops the parser). */
export interface ResponseSink {
  onHead(status: number, headers: ResponseHeaders): void
  onBody(chunk: Buffer): void
  onEnd(trailers: ResponseHeaders): void
}

/** Where the parser is in a response (numbers: the switch on them stays a jump table). */
const State = {
  /** No response expected. */
  Idle: 0,
  Head: 1,
  Length: 2,
  ChunkSize: 3,
  ChunkData: 4,
  ChunkDataEnd: 5,
  Trailers: 6,
  UntilClose: 7,
} as const
type State = (typeof State)[keyof typeof State]

function protocolError(reason: string): ProxyError {
  return new ProxyError('MESH_ERR_PROXY_UPSTREAM_PROTOCOL', `malformed upstream response: ${reason}`)
}

/** SP and HTAB trimmed off both ends (String.trim would also take NBSP, a valid obs-text byte). */
function trimOws(s: string): string {
  let a = 0
  let b = s.length
  while (a < b && (s.charCodeAt(a) === 0x20 || s.charCodeAt(a) === 0x09)) a++
  while (b > a && (s.charCodeAt(b - 1) === 0x20 || s.charCodeAt(b - 1) === 0x09)) b--
  return a === 0 && b === s.length ? s : s.slice(a, b)
}

/** Header fields of a head or trailer section (lines after the start line), into `out`. */
function parseFields(
  lines: string[],
  from: number,
  out: ResponseHeaders,
  facts: HeadFacts | undefined,
): void {
  for (let i = from; i < lines.length; i++) {
    const line = lines[i]!
    const c0 = line.charCodeAt(0)
    if (c0 === 0x20 || c0 === 0x09) throw protocolError('obs-fold')
    const colon = line.indexOf(':')
    if (colon <= 0) throw protocolError('header line without a name')
    const rawName = line.slice(0, colon)
    if (!TOKEN.test(rawName)) throw protocolError('header name is not a token')
    const rawValue = line.slice(colon + 1)
    if (BAD_VALUE.test(rawValue)) throw protocolError('control character in a header value')
    const name = rawName.toLowerCase()
    const value = trimOws(rawValue)
    if (facts !== undefined) {
      switch (name) {
        case 'content-length': {
          if (!/^\d{1,15}$/.test(value)) throw protocolError('bad content-length')
          const n = Number(value)
          if (facts.contentLength !== -1 && facts.contentLength !== n)
            throw protocolError('conflicting content-length')
          facts.contentLength = n
          break
        }
        case 'transfer-encoding':
          facts.transferEncoding =
            facts.transferEncoding === undefined ? value : `${facts.transferEncoding}, ${value}`
          break
        case 'connection':
          for (const t of value.toLowerCase().split(',')) {
            const tok = t.trim()
            if (tok === 'close') facts.close = true
            else if (tok === 'keep-alive') facts.keepAlive = true
          }
          break
        case 'keep-alive': {
          const m = /(?:^|[,;\s])timeout\s*=\s*(\d+)/i.exec(value)
          if (m) facts.keepAliveTimeoutS = Number(m[1])
          break
        }
      }
    }
    if (name === '__proto__') continue
    const prev = out[name]
    if (prev === undefined) out[name] = value
    else if (typeof prev === 'string') out[name] = [prev, value]
    else prev.push(value)
  }
}

interface HeadFacts {
  contentLength: number
  transferEncoding: string | undefined
  close: boolean
  keepAlive: boolean
  keepAliveTimeoutS: number | undefined
}

/** Splits a head or trailer section into lines; a CR or LF that is not part of a CRLF is an error. */
function splitLines(head: string): string[] {
  const lines = head.split('\r\n')
  for (const l of lines) if (l.includes('\r') || l.includes('\n')) throw protocolError('bare CR or LF')
  return lines
}

export class ResponseParser {
  private state: State = State.Idle
  private sink: ResponseSink | undefined
  /** Bytes read but not yet consumed (an incomplete head, chunk-size line or trailer section). */
  private pending: Buffer | undefined
  /** Body bytes left (Content-Length) or left in the current chunk. */
  private remaining = 0
  private noBody = false
  /** Each exchange's number: a sink call that started another exchange (or none) stops the loop. */
  private generation = 0
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
    this.complete({}, 0)
    return true
  }

  /** Feeds bytes read from the connection; throws a ProxyError on a malformed response. */
  execute(data: Buffer): void {
    let buf = data
    if (this.pending !== undefined) {
      buf = Buffer.concat([this.pending, data])
      this.pending = undefined
    }
    const gen = this.generation
    let off = 0
    while (off < buf.length) {
      if (this.generation !== gen) return
      switch (this.state) {
        case State.Idle:
          throw protocolError('data after the response')
        case State.Head: {
          const end = buf.indexOf(CRLFCRLF, off)
          if (end < 0 || end - off > MAX_RESPONSE_HEAD) {
            if (buf.length - off > MAX_RESPONSE_HEAD) throw protocolError('head too large')
            this.pending = buf.subarray(off)
            return
          }
          const head = buf.toString('latin1', off, end)
          off = end + 4
          this.onHeadText(head, buf.length - off)
          break
        }
        case State.Length: {
          const n = Math.min(this.remaining, buf.length - off)
          const chunk = buf.subarray(off, off + n)
          off += n
          this.remaining -= n
          if (this.remaining === 0) {
            this.sink!.onBody(chunk)
            if (this.generation === gen) this.complete({}, buf.length - off)
          } else this.sink!.onBody(chunk)
          break
        }
        case State.ChunkSize: {
          const end = buf.indexOf(CRLF, off)
          if (end < 0 || end - off > MAX_CHUNK_LINE) {
            if (buf.length - off > MAX_CHUNK_LINE) throw protocolError('chunk-size line too long')
            this.pending = buf.subarray(off)
            return
          }
          const line = buf.toString('latin1', off, end)
          off = end + 2
          const semi = line.indexOf(';')
          const hex = semi < 0 ? line : line.slice(0, semi)
          if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw protocolError('bad chunk size')
          if (semi >= 0 && BAD_VALUE.test(line.slice(semi))) throw protocolError('bad chunk extension')
          const size = Number.parseInt(hex, 16)
          if (size === 0) this.state = State.Trailers
          else {
            this.remaining = size
            this.state = State.ChunkData
          }
          break
        }
        case State.ChunkData: {
          const n = Math.min(this.remaining, buf.length - off)
          const chunk = buf.subarray(off, off + n)
          off += n
          this.remaining -= n
          if (this.remaining === 0) this.state = State.ChunkDataEnd
          this.sink!.onBody(chunk)
          break
        }
        case State.ChunkDataEnd: {
          if (buf.length - off < 2) {
            this.pending = buf.subarray(off)
            return
          }
          if (buf[off] !== 0x0d || buf[off + 1] !== 0x0a) throw protocolError('chunk not followed by CRLF')
          off += 2
          this.state = State.ChunkSize
          break
        }
        case State.Trailers: {
          // Either CRLF at once (no trailers) or trailer fields up to an empty line.
          if (buf.length - off < 2) {
            this.pending = buf.subarray(off)
            return
          }
          if (buf[off] === 0x0d && buf[off + 1] === 0x0a) {
            off += 2
            this.complete({}, buf.length - off)
            break
          }
          const end = buf.indexOf(CRLFCRLF, off)
          if (end < 0) {
            if (buf.length - off > MAX_RESPONSE_HEAD) throw protocolError('trailers too large')
            this.pending = buf.subarray(off)
            return
          }
          const trailers: ResponseHeaders = {}
          parseFields(splitLines(buf.toString('latin1', off, end)), 0, trailers, undefined)
          off = end + 4
          this.complete(trailers, buf.length - off)
          break
        }
        case State.UntilClose: {
          const chunk = off === 0 ? buf : buf.subarray(off)
          off = buf.length
          this.sink!.onBody(chunk)
          break
        }
      }
    }
  }

  /** A head read; `leftover`: bytes read after it. */
  private onHeadText(head: string, leftover: number): void {
    const lines = splitLines(head)
    const m = STATUS_LINE.exec(lines[0]!)
    if (!m) throw protocolError('bad status line')
    const status = Number(m[2])
    const facts: HeadFacts = {
      contentLength: -1,
      transferEncoding: undefined,
      close: false,
      keepAlive: false,
      keepAliveTimeoutS: undefined,
    }
    const headers: ResponseHeaders = {}
    parseFields(lines, 1, headers, facts)
    if (status < 200) {
      // 100 Continue, 102, 103: interim; the final head follows. 101 only answers an Upgrade.
      if (status === 101) throw protocolError('101 to a request without Upgrade')
      return
    }
    const http10 = m[1] === '0'
    this.keepAlive = http10 ? facts.keepAlive && !facts.close : !facts.close
    this.keepAliveTimeoutS = facts.keepAliveTimeoutS
    let chunked = false
    if (facts.transferEncoding !== undefined) {
      if (facts.contentLength !== -1) throw protocolError('content-length with transfer-encoding')
      const codings = facts.transferEncoding.toLowerCase().split(',')
      const chunkedAt = codings.findIndex((c) => c.trim() === 'chunked')
      if (chunkedAt !== -1 && chunkedAt !== codings.length - 1)
        throw protocolError('chunked is not the last transfer coding')
      if (http10 && chunkedAt !== -1) throw protocolError('chunked in HTTP/1.0')
      if (chunkedAt === -1) this.keepAlive = false
      chunked = chunkedAt !== -1
    }
    const noBody = this.noBody || status === 204 || status === 304
    const gen = this.generation
    this.sink!.onHead(status, headers)
    if (this.generation !== gen) return
    if (noBody) this.complete({}, leftover)
    else if (facts.transferEncoding !== undefined) this.state = chunked ? State.ChunkSize : State.UntilClose
    else if (facts.contentLength === 0) this.complete({}, leftover)
    else if (facts.contentLength > 0) {
      this.remaining = facts.contentLength
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
  private complete(trailers: ResponseHeaders, leftover: number): void {
    if (leftover > 0) this.keepAlive = false
    const sink = this.sink!
    this.sink = undefined
    this.state = State.Idle
    this.generation++
    sink.onEnd(trailers)
  }
}
