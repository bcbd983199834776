// What the proxy's two HTTP/1.1 parsers share (RFC 9112): the upstream response parser
// (cluster/h1-response.ts) and the downstream request parser (http/h1-request.ts). Both read a
// head (start line and header fields up to an empty line), then a body framed by Content-Length,
// chunked transfer coding (with trailers) or, for a response only, the connection's close.
// Strict wherever laxness lets one message be read two ways: a bare CR or LF, obs-fold, a field
// name that is not a token, a control character in a value, Content-Length with
// Transfer-Encoding, two different Content-Lengths, chunked that is not the last coding, a bad
// chunk size, a head over the size limit. Each is an error of the parser's own kind (`fail`),
// and the connection is not used again. Body bytes are handed on as slices of what the socket
// read (no copy); field names are lower-cased.

/** tchar (RFC 9110 §5.6.2). */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
/** Field values: HTAB, visible ASCII, SP and obs-text (RFC 9110 §5.5); no CR, LF, NUL or other controls. */
export const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/
/** Largest chunk-size line (size, extensions), bytes. */
const MAX_CHUNK_LINE = 1024
const CRLF = Buffer.from('\r\n', 'latin1')
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1')

/** SP and HTAB trimmed off both ends (String.trim would also take NBSP, a valid obs-text byte). */
function trimOws(s: string): string {
  let a = 0
  let b = s.length
  while (a < b && (s.charCodeAt(a) === 0x20 || s.charCodeAt(a) === 0x09)) a++
  while (b > a && (s.charCodeAt(b - 1) === 0x20 || s.charCodeAt(b - 1) === 0x09)) b--
  return a === 0 && b === s.length ? s : s.slice(a, b)
}

/** How a message's body is framed, from its header fields. */
export interface Framing {
  /** -1: no Content-Length. */
  contentLength: number
  transferEncoding: string | undefined
  /** Connection tokens. */
  close: boolean
  keepAlive: boolean
  upgrade: boolean
  keepAliveTimeoutS: number | undefined
}

/** Where a parser is in a message (numbers: the switch on them stays a jump table). */
export const State = {
  /** No message expected. */
  Idle: 0,
  Head: 1,
  Length: 2,
  ChunkSize: 3,
  ChunkData: 4,
  ChunkDataEnd: 5,
  Trailers: 6,
  UntilClose: 7,
} as const
export type State = (typeof State)[keyof typeof State]

/**
 * A head or trailer section after its start line: validated fields into `flat` (lower-case
 * names, values trimmed), and their framing facts into `framing` when given.
 */
export function parseFields(
  lines: readonly string[],
  from: number,
  flat: string[],
  framing: Framing | undefined,
  fail: (reason: string) => Error,
): void {
  for (let i = from; i < lines.length; i++) {
    const line = lines[i]!
    const c0 = line.charCodeAt(0)
    if (c0 === 0x20 || c0 === 0x09) throw fail('obs-fold')
    const colon = line.indexOf(':')
    if (colon <= 0) throw fail('header line without a name')
    const rawName = line.slice(0, colon)
    if (!TOKEN.test(rawName)) throw fail('header name is not a token')
    const rawValue = line.slice(colon + 1)
    if (BAD_VALUE.test(rawValue)) throw fail('control character in a header value')
    const name = rawName.toLowerCase()
    const value = trimOws(rawValue)
    if (framing !== undefined) noteFraming(framing, name, value, fail)
    flat.push(name, value)
  }
}

function noteFraming(f: Framing, name: string, value: string, fail: (reason: string) => Error): void {
  switch (name) {
    case 'content-length': {
      if (!/^\d{1,15}$/.test(value)) throw fail('bad content-length')
      const n = Number(value)
      if (f.contentLength !== -1 && f.contentLength !== n) throw fail('conflicting content-length')
      f.contentLength = n
      break
    }
    case 'transfer-encoding':
      f.transferEncoding = f.transferEncoding === undefined ? value : `${f.transferEncoding}, ${value}`
      break
    case 'connection':
      for (const t of value.toLowerCase().split(',')) {
        const tok = t.trim()
        if (tok === 'close') f.close = true
        else if (tok === 'keep-alive') f.keepAlive = true
        else if (tok === 'upgrade') f.upgrade = true
      }
      break
    case 'keep-alive': {
      const m = /(?:^|[,;\s])timeout\s*=\s*(\d+)/i.exec(value)
      if (m) f.keepAliveTimeoutS = Number(m[1])
      break
    }
  }
}

export function newFraming(): Framing {
  return {
    contentLength: -1,
    transferEncoding: undefined,
    close: false,
    keepAlive: false,
    upgrade: false,
    keepAliveTimeoutS: undefined,
  }
}

/**
 * Whether Transfer-Encoding frames the body as chunked: true, or false when it is present
 * without chunked as its last coding (a response is then read until close; a request is
 * refused by its parser). Throws for framings that could be read two ways.
 */
export function isChunked(f: Framing, http10: boolean, fail: (reason: string) => Error): boolean {
  if (f.transferEncoding === undefined) return false
  if (f.contentLength !== -1) throw fail('content-length with transfer-encoding')
  const codings = f.transferEncoding.toLowerCase().split(',')
  const chunkedAt = codings.findIndex((c) => c.trim() === 'chunked')
  if (chunkedAt !== -1 && chunkedAt !== codings.length - 1)
    throw fail('chunked is not the last transfer coding')
  if (http10 && chunkedAt !== -1) throw fail('chunked in HTTP/1.0')
  return chunkedAt !== -1
}

/** Splits a head or trailer section into lines; a CR or LF that is not part of a CRLF is an error. */
export function splitLines(head: string, fail: (reason: string) => Error): string[] {
  const lines = head.split('\r\n')
  for (const l of lines) if (l.includes('\r') || l.includes('\n')) throw fail('bare CR or LF')
  return lines
}

/**
 * The byte-level half of a parser: finds heads, reads bodies (length, chunked with trailers, until
 * close). A subclass reads the head (`onHeadText`, which sets the body's state) and takes the body
 * (`onBody`) and its end (`complete`).
 */
export abstract class H1Parser {
  protected state: State = State.Idle
  /** Bytes read but not yet consumed (an incomplete head, chunk-size line or trailer section). */
  protected pending: Buffer | undefined
  /** Body bytes left (Content-Length) or left in the current chunk. */
  protected remaining = 0
  /**
   * Bumped whenever the parser starts or stops a message on someone's call: a call made from a
   * callback (a sink that ended the exchange, a server that holds the next request) stops the loop.
   */
  protected generation = 0

  /** Largest head (start line and fields), bytes. */
  protected abstract readonly maxHead: number
  /** The parser's error for a malformed message (a function that needs no `this`). */
  protected abstract readonly fail: (reason: string) => Error
  /** A head read (without its final CRLFCRLF); `leftover`: bytes read after it. */
  protected abstract onHeadText(head: string, leftover: number): void
  protected abstract onBody(chunk: Buffer): void
  /** The message is whole; `leftover`: bytes read after it. */
  protected abstract complete(trailers: string[], leftover: number): void
  /** Bytes after the message that stopped the loop: kept or dropped by the subclass. */
  protected abstract rest(bytes: Buffer): void
  /** Bytes when no message is expected. */
  protected abstract idleData(): never

  /** The body bytes of `buf` from `off` that the current length or chunk still has room for. */
  private take(buf: Buffer, off: number): Buffer {
    const n = Math.min(this.remaining, buf.length - off)
    this.remaining -= n
    return buf.subarray(off, off + n)
  }

  /** Feeds bytes read from the connection; throws the parser's error on a malformed message. */
  execute(data: Buffer): void {
    let buf = data
    if (this.pending !== undefined) {
      buf = data.length === 0 ? this.pending : Buffer.concat([this.pending, data])
      this.pending = undefined
    }
    const gen = this.generation
    let off = 0
    while (off < buf.length) {
      if (this.generation !== gen) {
        this.rest(buf.subarray(off))
        return
      }
      switch (this.state) {
        case State.Idle:
          this.idleData()
          break
        case State.Head: {
          const end = buf.indexOf(CRLFCRLF, off)
          if (end < 0 || end - off > this.maxHead) {
            if (buf.length - off > this.maxHead) throw this.fail('head too large')
            this.pending = buf.subarray(off)
            return
          }
          const head = buf.toString('latin1', off, end)
          off = end + 4
          this.onHeadText(head, buf.length - off)
          break
        }
        case State.Length: {
          const chunk = this.take(buf, off)
          off += chunk.length
          if (this.remaining === 0) {
            this.onBody(chunk)
            if (this.generation === gen) this.complete([], buf.length - off)
          } else this.onBody(chunk)
          break
        }
        case State.ChunkSize: {
          const end = buf.indexOf(CRLF, off)
          if (end < 0 || end - off > MAX_CHUNK_LINE) {
            if (buf.length - off > MAX_CHUNK_LINE) throw this.fail('chunk-size line too long')
            this.pending = buf.subarray(off)
            return
          }
          const line = buf.toString('latin1', off, end)
          off = end + 2
          const semi = line.indexOf(';')
          const hex = semi < 0 ? line : line.slice(0, semi)
          if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw this.fail('bad chunk size')
          if (semi >= 0 && BAD_VALUE.test(line.slice(semi))) throw this.fail('bad chunk extension')
          const size = Number.parseInt(hex, 16)
          if (size === 0) this.state = State.Trailers
          else {
            this.remaining = size
            this.state = State.ChunkData
          }
          break
        }
        case State.ChunkData: {
          const chunk = this.take(buf, off)
          off += chunk.length
          if (this.remaining === 0) this.state = State.ChunkDataEnd
          this.onBody(chunk)
          break
        }
        case State.ChunkDataEnd: {
          if (buf.length - off < 2) {
            this.pending = buf.subarray(off)
            return
          }
          if (buf[off] !== 0x0d || buf[off + 1] !== 0x0a) throw this.fail('chunk not followed by CRLF')
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
            this.complete([], buf.length - off)
            break
          }
          const end = buf.indexOf(CRLFCRLF, off)
          if (end < 0) {
            if (buf.length - off > this.maxHead) throw this.fail('trailers too large')
            this.pending = buf.subarray(off)
            return
          }
          const trailers: string[] = []
          parseFields(
            splitLines(buf.toString('latin1', off, end), this.fail),
            0,
            trailers,
            undefined,
            this.fail,
          )
          off = end + 4
          this.complete(trailers, buf.length - off)
          break
        }
        case State.UntilClose: {
          const chunk = off === 0 ? buf : buf.subarray(off)
          off = buf.length
          this.onBody(chunk)
          break
        }
      }
    }
  }
}
