// The downstream side of HTTP/1.x, written for the proxy's hot path in place of node:http's
// server: each client connection is read by h1-request.ts's parser and answered through an
// H1Response that writes the head and body itself.
// - A request is handed on only after the bytes read with its head have been parsed: a request
//   that breaks the protocol anywhere in them (a smuggled second request, a bad chunk) gets 400
//   and never reaches a stage. A malformed request later in its body is cut off (400 if its
//   response has not started) and the connection closes.
// - One request at a time: a pipelined request waits, unread, until the response before it is
//   done (responses stay in order).
// - Responses: Content-Length when the head has one, chunked for HTTP/1.1 otherwise, the
//   connection's close for HTTP/1.0; `connection: close` when the connection will not carry
//   another request (the client's Connection, draining, a request body left unread); a `date`
//   when the head has none. Header names must be tokens and values free of CR, LF and NUL, as
//   node:http checks: a rewritten value cannot inject a header. Writes within one tick go out
//   corked, so a head and a body that arrive together take one write.
// - `Expect: 100-continue` is answered by the proxy, as Envoy does by default.
// - An Upgrade request (`Connection: upgrade` and Upgrade) hands over the socket and the bytes
//   read after the head; CONNECT gets 405.
// - A connection waiting for a request head (a new one, or a keep-alive one between requests)
//   is closed after the keep-alive timeout.
import { EventEmitter } from 'node:events'
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import { Readable } from 'node:stream'
import { BAD_VALUE, TOKEN } from './h1-codec.ts'
import { type RequestHead, RequestParser, type RequestSink } from './h1-request.ts'

const EMPTY = Buffer.alloc(0)
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n'
const BAD_REQUEST =
  'HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\ncontent-length: 11\r\nconnection: close\r\n\r\nbad request'
const METHOD_NOT_ALLOWED = 'HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\nconnection: close\r\n\r\n'

let dateMs = 0
let dateText = ''
/** The `date` of a response, made once a second. */
function httpDate(): string {
  const now = Date.now()
  if (now - dateMs >= 1000) {
    dateMs = now - (now % 1000)
    dateText = new Date(dateMs).toUTCString()
  }
  return dateText
}

function invalidHeader(code: string, what: string): Error {
  return Object.assign(new TypeError(`Invalid character in ${what}`), { code })
}

export interface H1ServerOptions {
  /** Largest request head, bytes; larger gets 400. */
  maxHeaderSize: number
  /** How long a connection may wait for a request head (idle keep-alive or slow head). */
  keepAliveTimeoutMs: number
}

/** What the server does with what it reads, per connection (`conn`: what rides on it). */
export interface H1Handlers<C> {
  request(conn: C, req: H1Request, res: H1Response): void
  upgrade(conn: C, req: H1Request, socket: Socket, head: Buffer): void
  /** A request answered 400 by the server itself (logged by the caller). */
  badRequest(conn: C, err: Error): void
}

/** A request read from a client: what node:http's IncomingMessage gives the proxy, and the body as a stream. */
export class H1Request extends Readable {
  readonly method: string
  readonly url: string
  readonly httpVersion: string
  /** Fields, flat, names lower-case. */
  readonly rawHeaders: string[]
  readonly socket: Socket
  /** The whole body has been read. */
  complete: boolean
  private readonly connection: H1Connection<unknown>
  private headerObject: Record<string, string | string[]> | undefined

  constructor(connection: H1Connection<unknown>, head: RequestHead) {
    super()
    this.connection = connection
    this.socket = connection.socket
    this.method = head.method
    this.url = head.url
    this.httpVersion = head.httpVersion
    this.rawHeaders = head.rawHeaders
    this.complete = !head.hasBody || head.upgrade
    if (this.complete) this.push(null)
  }

  /**
   * Fields as one object, made on first use, as node:http joins them: repeated values with
   * ', ', set-cookie as an array, and for fields that allow one value only the first.
   */
  get headers(): Record<string, string | string[]> {
    let h = this.headerObject
    if (h !== undefined) return h
    h = {}
    const raw = this.rawHeaders
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!
      const value = raw[i + 1]!
      if (name === '__proto__') continue
      const prev = h[name]
      if (prev === undefined) h[name] = name === 'set-cookie' ? [value] : value
      else if (Array.isArray(prev)) prev.push(value)
      else if (!SINGLE.has(name)) h[name] = `${prev}, ${value}`
    }
    this.headerObject = h
    return h
  }

  override _read(): void {
    this.connection.resumeBody()
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // Like IncomingMessage: an error nobody listens for is not thrown.
    cb(this.listenerCount('error') > 0 ? err : null)
  }
}

/** Fields node:http keeps the first of (a repeat is dropped). */
const SINGLE: ReadonlySet<string> = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
])

function emitClose(res: H1Response): void {
  res.emitClose()
}

function uncork(c: H1Connection<unknown>): void {
  c.corked = false
  c.socket.uncork()
}

/** The answer to one request, written on the connection. */
export class H1Response extends EventEmitter {
  headersSent = false
  /** end() was called. */
  finished = false
  /** Cleared to close the connection after this response (draining). */
  shouldKeepAlive = true
  /** The connection carries another request after this one (known once the head is made). */
  persistent = false
  private readonly c: H1Connection<unknown>
  private readonly isHead: boolean
  private readonly http10: boolean
  private head: string | undefined
  private chunked = false
  private noBody = false
  private destroyedHere = false
  private closeEmitted = false
  private waitingDrain = false

  constructor(c: H1Connection<unknown>, method: string, http10: boolean) {
    super()
    this.c = c
    this.isHead = method === 'HEAD'
    this.http10 = http10
  }

  get destroyed(): boolean {
    return this.destroyedHere || this.c.socket.destroyed
  }

  /** Makes the head (written with the first body bytes or the end); throws for an invalid header. */
  writeHead(status: number, flat?: readonly string[]): this {
    if (this.headersSent) {
      if (this.finished) return this
      throw Object.assign(new Error('headers already sent'), { code: 'ERR_HTTP_HEADERS_SENT' })
    }
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`
    let length = false
    let date = false
    /** The caller's own Connection field (it is not repeated). */
    let connection = false
    let close = false
    let chunked = false
    if (flat !== undefined)
      for (let i = 0; i < flat.length; i += 2) {
        const name = flat[i]!
        const value = flat[i + 1]!
        if (!TOKEN.test(name)) throw invalidHeader('ERR_INVALID_HTTP_TOKEN', 'header name')
        if (BAD_VALUE.test(value)) throw invalidHeader('ERR_INVALID_CHAR', `header content ["${name}"]`)
        switch (name) {
          case 'content-length':
            length = true
            break
          case 'date':
            date = true
            break
          case 'transfer-encoding':
            chunked = /(?:^|,)\s*chunked\s*$/i.test(value)
            break
          case 'connection':
            connection = true
            if (/(?:^|,)\s*close\s*(?:,|$)/i.test(value)) close = true
            break
        }
        head += `${name}: ${value}\r\n`
      }
    this.noBody = this.isHead || status === 204 || status === 304 || status < 200
    if (!this.noBody && !length && !chunked) {
      if (this.http10) close = true
      else {
        head += 'transfer-encoding: chunked\r\n'
        chunked = true
      }
    }
    this.chunked = chunked && !this.noBody
    const persistent = !close && this.shouldKeepAlive && this.c.mayKeepAlive()
    this.persistent = persistent
    if (!connection) {
      if (!persistent) head += 'connection: close\r\n'
      else if (this.http10) head += 'connection: keep-alive\r\n'
    }
    if (!date) head += `date: ${httpDate()}\r\n`
    this.head = `${head}\r\n`
    this.headersSent = true
    return this
  }

  /** Writes body bytes (the head first); false: wait for 'drain'. */
  write(chunk: Buffer): boolean {
    if (this.finished || this.destroyed) return false
    if (!this.headersSent) this.writeHead(200)
    const s = this.c.socket
    this.cork()
    if (this.head !== undefined) {
      s.write(this.head, 'latin1')
      this.head = undefined
    }
    let ok: boolean
    if (this.noBody || chunk.length === 0) ok = !s.writableNeedDrain
    else if (this.chunked) {
      s.write(`${chunk.length.toString(16)}\r\n`, 'latin1')
      s.write(chunk)
      ok = s.write('\r\n', 'latin1')
    } else ok = s.write(chunk)
    if (!ok && !this.waitingDrain) {
      this.waitingDrain = true
      s.once('drain', () => {
        this.waitingDrain = false
        this.emit('drain')
      })
    }
    return ok
  }

  end(chunk?: Buffer): this {
    if (this.finished) return this
    if (this.destroyed) {
      this.finished = true
      return this
    }
    if (chunk !== undefined && chunk.length > 0) this.write(chunk)
    else if (!this.headersSent) this.writeHead(200)
    const s = this.c.socket
    this.cork()
    if (this.head !== undefined) {
      s.write(this.head, 'latin1')
      this.head = undefined
    }
    if (this.chunked) s.write('0\r\n\r\n', 'latin1')
    this.finished = true
    this.c.responseDone(this)
    process.nextTick(emitClose, this)
    return this
  }

  /** Cuts the client off (the connection closes). */
  destroy(_err?: Error): this {
    this.destroyedHere = true
    this.c.socket.destroy()
    return this
  }

  /** Emits 'close' once: the response is done or the connection is gone. */
  emitClose(): void {
    if (this.closeEmitted) return
    this.closeEmitted = true
    this.emit('close')
  }

  /** Writes of this tick go out in one writev. */
  private cork(): void {
    const c = this.c
    if (c.corked) return
    c.corked = true
    c.socket.cork()
    process.nextTick(uncork, c)
  }
}

/** One client connection. */
export class H1Connection<C> implements RequestSink {
  readonly socket: Socket
  readonly conn: C
  corked = false
  private readonly server: H1Server<C>
  private readonly parser: RequestParser
  private req: H1Request | undefined
  private res: H1Response | undefined
  /** The request's head asked to keep the connection. */
  private keepAlive = false
  /** A request read and not yet handed on (handed on once its bytes have been parsed). */
  private toDispatch = false
  private upgradeHead: Buffer | undefined
  private upgrading = false
  /** Bytes of a pipelined request, held until the response before it is done. */
  private held: Buffer | undefined
  private holding = false
  private feeding = false
  /** The response ended while feeding: go on with the held bytes after the current parse. */
  private again = false
  private readEnded = false
  private waitingHead = true
  private dead = false
  private readonly timer: NodeJS.Timeout

  constructor(server: H1Server<C>, socket: Socket, conn: C) {
    this.server = server
    this.socket = socket
    this.conn = conn
    this.parser = new RequestParser(this, server.opts.maxHeaderSize)
    this.timer = setTimeout(() => this.onTimeout(), server.opts.keepAliveTimeoutMs)
    this.timer.unref()
    socket.on('data', (data: Buffer) => this.onData(data))
    socket.on('end', () => this.onEnd())
    socket.once('close', () => this.onClose())
  }

  /** No request in flight (closing it now loses nothing). */
  get idle(): boolean {
    return this.req === undefined && !this.parser.reading
  }

  mayKeepAlive(): boolean {
    return this.keepAlive && !this.readEnded && !this.server.closing
  }

  // RequestSink

  onRequest(head: RequestHead): void {
    if (head.method === 'CONNECT') {
      this.kill(METHOD_NOT_ALLOWED)
      return
    }
    this.waitingHead = false
    this.keepAlive = head.keepAlive
    const req = new H1Request(this as H1Connection<unknown>, head)
    this.req = req
    if (head.upgrade) {
      this.upgrading = true
      return
    }
    this.res = new H1Response(this as H1Connection<unknown>, head.method, head.httpVersion === '1.0')
    if (head.expectContinue) this.socket.write(CONTINUE, 'latin1')
    this.toDispatch = true
  }

  onRequestBody(chunk: Buffer): void {
    const req = this.req!
    if (!req.push(chunk)) this.socket.pause()
  }

  onRequestEnd(): void {
    const req = this.req
    if (req === undefined) return
    if (!req.complete) {
      req.complete = true
      req.push(null)
    }
    // The next request waits for this one's response.
    this.holding = true
    this.parser.hold()
  }

  onRest(bytes: Buffer): void {
    if (this.upgrading) this.upgradeHead = bytes
    else this.held = this.held === undefined ? bytes : Buffer.concat([this.held, bytes])
  }

  /** The request's body stream wants more. */
  resumeBody(): void {
    if (!this.holding && !this.dead) this.socket.resume()
  }

  private onData(data: Buffer): void {
    if (this.dead) return
    if (this.holding) {
      this.held = this.held === undefined ? data : Buffer.concat([this.held, data])
      this.socket.pause()
      return
    }
    this.feed(data)
  }

  private feed(data: Buffer): void {
    this.feeding = true
    let buf = data
    for (;;) {
      try {
        this.parser.execute(buf)
      } catch (err) {
        this.feeding = false
        this.toDispatch = false
        this.onParseError(err as Error)
        return
      }
      if (this.upgrading) {
        this.feeding = false
        this.handOverUpgrade()
        return
      }
      if (this.toDispatch) {
        this.toDispatch = false
        this.server.handlers.request(this.conn, this.req!, this.res!)
      }
      if (!this.again || this.dead) break
      // The response ended while parsing: the held request (if any) is next.
      this.again = false
      this.holding = false
      buf = this.held ?? EMPTY
      this.held = undefined
      if (buf.length === 0) break
    }
    this.feeding = false
    if (this.req === undefined && !this.holding) this.socket.resume()
  }

  /** The response to the current request has ended. */
  responseDone(res: H1Response): void {
    if (res !== this.res) return
    const req = this.req!
    this.req = undefined
    this.res = undefined
    if (!res.persistent || !req.complete || this.readEnded) {
      // The connection carries nothing more (an unread body cannot be skipped safely).
      this.dead = true
      if (!req.complete) req.destroy()
      this.socket.destroySoon()
      return
    }
    this.waitingHead = true
    this.timer.refresh()
    if (this.feeding) {
      this.again = true
      return
    }
    this.holding = false
    const held = this.held
    this.held = undefined
    this.socket.resume()
    if (held !== undefined) this.feed(held)
  }

  private handOverUpgrade(): void {
    const socket = this.socket
    this.dead = true
    this.server.forget(this)
    clearTimeout(this.timer)
    socket.removeAllListeners('data')
    socket.removeAllListeners('end')
    socket.pause()
    const head = this.upgradeHead ?? EMPTY
    this.upgradeHead = undefined
    this.server.handlers.upgrade(this.conn, this.req!, socket, head)
  }

  private onParseError(err: Error): void {
    const res = this.res
    const req = this.req
    this.server.handlers.badRequest(this.conn, err)
    if (req !== undefined && !req.complete) req.destroy(err)
    if (res?.headersSent) {
      this.dead = true
      this.socket.destroy()
      return
    }
    if (res !== undefined) res.finished = true
    this.kill(BAD_REQUEST)
  }

  /** Answers with a fixed reply and closes; nothing more is read. */
  private kill(reply: string): void {
    this.dead = true
    this.parser.hold()
    const socket = this.socket
    if (socket.writable) socket.end(reply, 'latin1')
    socket.destroySoon()
  }

  private onEnd(): void {
    this.readEnded = true
    if (this.req === undefined) {
      this.socket.destroy()
      return
    }
    // A body cut short: the request breaks off.
    if (!this.req.complete) this.req.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }))
  }

  private onTimeout(): void {
    if (this.waitingHead && this.req === undefined) this.socket.destroy()
  }

  private onClose(): void {
    clearTimeout(this.timer)
    this.dead = true
    this.server.forget(this)
    const req = this.req
    if (req !== undefined && !req.complete)
      req.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }))
    const res = this.res
    if (res !== undefined && !res.finished) res.emitClose()
  }
}

/** The HTTP/1.x connections of every listener. */
export class H1Server<C> {
  readonly opts: H1ServerOptions
  readonly handlers: H1Handlers<C>
  private readonly connections = new Set<H1Connection<C>>()
  /** Draining: responses close their connections. */
  closing = false

  constructor(opts: H1ServerOptions, handlers: H1Handlers<C>) {
    this.opts = opts
    this.handlers = handlers
  }

  /** Serves HTTP/1.x on a connection (its bytes so far may be unshifted back into it). */
  serve(socket: Socket, conn: C): void {
    this.connections.add(new H1Connection(this, socket, conn))
    socket.resume()
  }

  forget(c: H1Connection<C>): void {
    this.connections.delete(c)
  }

  /** Closes connections with no request in flight; the others close after their response. */
  closeIdle(): void {
    this.closing = true
    for (const c of this.connections) if (c.idle) c.socket.destroy()
  }

  closeAll(): void {
    for (const c of [...this.connections]) c.socket.destroy()
  }

  get size(): number {
    return this.connections.size
  }
}
