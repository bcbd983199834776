// Envoy's tls_inspector: reads a connection's TLS ClientHello without consuming it (the bytes are
// put back on the socket) and finds the server name the client asks for (SNI), so that the filter
// chain, and with it the certificate, is chosen before the handshake starts.
import type { Socket } from 'node:net'

/** What the first bytes said: not TLS at all, or a ClientHello (with its SNI when it has one). */
export type HelloVerdict = { tls: false } | { tls: true; serverName: string | undefined }

/** Largest ClientHello record waited for (a record is at most 16 KiB plus its header). */
const MAX_RECORD = 16_384 + 5

/**
 * The SNI host name of a ClientHello in `buf`, `undefined` when it has none, or 'more' when the
 * record is not complete yet. A record that is not a ClientHello gives undefined too (the
 * handshake will fail on its own).
 */
function parseClientHello(buf: Buffer): string | undefined | 'more' {
  if (buf.length < 5) return 'more'
  const recordLength = buf.readUInt16BE(3)
  if (buf.length < 5 + recordLength) return 'more'
  const end = 5 + recordLength
  let p = 5
  if (buf[p] !== 0x01) return undefined // handshake type ClientHello
  p += 4 // type, 24-bit length
  p += 2 + 32 // client_version, random
  if (p >= end) return undefined
  p += 1 + buf[p]! // session id
  if (p + 2 > end) return undefined
  p += 2 + buf.readUInt16BE(p) // cipher suites
  if (p >= end) return undefined
  p += 1 + buf[p]! // compression methods
  if (p + 2 > end) return undefined
  const extEnd = Math.min(end, p + 2 + buf.readUInt16BE(p))
  p += 2
  while (p + 4 <= extEnd) {
    const type = buf.readUInt16BE(p)
    const len = buf.readUInt16BE(p + 2)
    p += 4
    if (type === 0x0000 && p + 5 <= extEnd) {
      // server_name: list length, then entries of (type, length, name); type 0 is host_name.
      let q = p + 2
      const listEnd = Math.min(p + len, extEnd)
      while (q + 3 <= listEnd) {
        const nameType = buf[q]!
        const nameLen = buf.readUInt16BE(q + 1)
        q += 3
        if (nameType === 0 && q + nameLen <= listEnd)
          return buf.toString('latin1', q, q + nameLen).toLowerCase()
        q += nameLen
      }
      return undefined
    }
    p += len
  }
  return undefined
}

/**
 * Peeks at a fresh connection's first bytes. Calls back once: `{tls: false}` when they are not a
 * TLS handshake record (or nothing came within the timeout), else the ClientHello's SNI. The bytes
 * read are unshifted back, so the TLS socket made next reads the handshake from its start.
 */
export function inspectClientHello(socket: Socket, timeoutMs: number, cb: (v: HelloVerdict) => void): void {
  let buf: Buffer | undefined
  let done = false
  const finish = (v: HelloVerdict) => {
    if (done) return
    done = true
    clearTimeout(timer)
    socket.removeListener('data', onData)
    socket.removeListener('end', onEnd)
    socket.removeListener('close', onEnd)
    socket.pause()
    if (buf) socket.unshift(buf)
    cb(v)
  }
  const onData = (chunk: Buffer) => {
    buf = buf ? Buffer.concat([buf, chunk]) : chunk
    if (buf[0] !== 0x16) return finish({ tls: false })
    const sni = parseClientHello(buf)
    if (sni !== 'more') return finish({ tls: true, serverName: sni })
    if (buf.length >= MAX_RECORD) finish({ tls: true, serverName: undefined })
  }
  const onEnd = () => finish({ tls: false })
  const timer = setTimeout(() => setImmediate(finish, { tls: false }), timeoutMs)
  socket.on('data', onData)
  socket.once('end', onEnd)
  socket.once('close', onEnd)
  socket.resume()
}
