// Protocol sniffing on captured connections: does the client speak HTTP/1.x or HTTP/2 with prior
// knowledge (h2c)? The first bytes are read (without losing them: they are put back on the
// socket) and checked for the HTTP/2 connection preface or a request line's method token. A
// client that sends nothing within the timeout (a server-first protocol such as MySQL) is
// treated as TCP.
import type { Socket } from 'node:net'

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT'])
const LONGEST = 8
/** The client connection preface of HTTP/2 (RFC 9113 §3.4). */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1')

export type SniffVerdict = 'http' | 'http2' | 'tcp'

/** 'http' (HTTP/1.x), 'http2' (the h2 preface), 'tcp', or 'more' when the bytes so far cannot tell. */
export function classifyFirstBytes(buf: Buffer): SniffVerdict | 'more' {
  const p = Math.min(buf.length, H2_PREFACE.length)
  if (p > 0 && buf.compare(H2_PREFACE, 0, p, 0, p) === 0) return p === H2_PREFACE.length ? 'http2' : 'more'
  const n = Math.min(buf.length, LONGEST)
  for (let i = 0; i < n; i++) {
    const c = buf[i]!
    if (c === 0x20) return i > 0 && METHODS.has(buf.toString('latin1', 0, i)) ? 'http' : 'tcp'
    if (c < 0x41 || c > 0x5a) return 'tcp'
  }
  return buf.length > LONGEST ? 'tcp' : 'more'
}

/**
 * Peeks at a fresh connection. Calls back with the verdict once (`timedOut`: 'tcp' because the
 * client sent nothing within the timeout, not because of what it sent); the bytes read are
 * unshifted back so the next reader (HTTP parser or TCP pipe) sees the stream from its start.
 */
export function sniff(
  socket: Socket,
  timeoutMs: number,
  cb: (kind: SniffVerdict, timedOut: boolean) => void,
): void {
  let buf: Buffer | undefined
  let done = false
  const finish = (kind: SniffVerdict, timedOut = false) => {
    if (done) return
    done = true
    clearTimeout(timer)
    socket.removeListener('data', onData)
    socket.removeListener('end', onEnd)
    socket.removeListener('close', onEnd)
    socket.pause()
    if (buf) socket.unshift(buf)
    cb(kind, timedOut)
  }
  const onData = (chunk: Buffer) => {
    buf = buf ? Buffer.concat([buf, chunk]) : chunk
    const v = classifyFirstBytes(buf)
    if (v !== 'more') finish(v)
  }
  const onEnd = () => finish('tcp')
  const onTimeout = () => finish('tcp', true)
  // The event loop runs due timers before it reads sockets: after a stall longer than the timeout
  // (GC, a busy machine), bytes already sent would lose to the timer. The verdict waits for the
  // read that follows in the same loop turn (setImmediate runs after it).
  const timer = setTimeout(() => setImmediate(onTimeout), timeoutMs)
  socket.on('data', onData)
  socket.once('end', onEnd)
  socket.once('close', onEnd)
  // Listeners are created paused (pauseOnConnect): start reading now.
  socket.resume()
}

/** The first byte of a TLS connection: a handshake record (RFC 8446 §5.1, content type 22). */
const TLS_HANDSHAKE = 0x16

/**
 * Peeks at the first byte of a fresh connection: a TLS handshake record or not. A client that
 * sends nothing within the timeout is not TLS (and `silent`: a server-first protocol). The bytes
 * read are put back on the socket, which is left paused.
 */
export function sniffTls(
  socket: Socket,
  timeoutMs: number,
  cb: (isTls: boolean, silent: boolean) => void,
): void {
  let done = false
  const finish = (isTls: boolean, chunk?: Buffer) => {
    if (done) return
    done = true
    clearTimeout(timer)
    socket.removeListener('data', onData)
    socket.removeListener('end', onEnd)
    socket.removeListener('close', onEnd)
    socket.pause()
    if (chunk) socket.unshift(chunk)
    cb(isTls, chunk === undefined)
  }
  const onData = (chunk: Buffer) => finish(chunk[0] === TLS_HANDSHAKE, chunk)
  const onEnd = () => finish(false)
  // As in sniff(): a verdict on timeout waits for the read that follows in the same loop turn.
  const timer = setTimeout(() => setImmediate(finish, false), timeoutMs)
  socket.on('data', onData)
  socket.once('end', onEnd)
  socket.once('close', onEnd)
  socket.resume()
}
