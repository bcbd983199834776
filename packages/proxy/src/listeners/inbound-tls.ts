// Mesh mTLS on inbound capture chains (PeerAuthentication): a connection whose first byte is a TLS
// handshake record (0x16) is terminated with this workload's certificate, requiring a client
// certificate the mesh roots verify; its peer's principal (URI SAN) rides on the connection for
// the rest of the pipeline. STRICT closes anything else (plaintext, a failed handshake, or any
// connection before the proxy has a certificate); PERMISSIVE hands plaintext on as it came (and
// TLS too while it has no certificate: then the app sees the TLS, as with DISABLE).
import type { Socket } from 'node:net'
import { type TLSSocket, TLSSocket as TlsSocket } from 'node:tls'
import { peerPrincipalOf, SERVER_ALPN } from '../cluster/mesh-tls.ts'
import type { ProxyContext } from '../context.ts'
import { sniffTls } from './sniff.ts'

/** A handshake that has not completed in this time is abandoned (Envoy's transport_socket_connect_timeout is 10 s too). */
export const HANDSHAKE_TIMEOUT_MS = 10_000

export type MtlsRefusal = 'plaintext' | 'no_certificate' | 'handshake'

export type InboundTlsVerdict =
  | { kind: 'plaintext' }
  | { kind: 'mtls'; socket: TLSSocket; principal: string | undefined }
  | { kind: 'refused'; reason: MtlsRefusal }

/**
 * Decides how a fresh inbound connection is secured, terminating mesh mTLS when it is TLS. Calls
 * back once; a refused connection is already destroyed.
 */
export function acceptInbound(
  ctx: ProxyContext,
  socket: Socket,
  mode: 'STRICT' | 'PERMISSIVE',
  sniffTimeoutMs: number,
  cb: (verdict: InboundTlsVerdict) => void,
): void {
  const refuse = (reason: MtlsRefusal) => {
    ctx.metrics.mtlsRefused(reason)
    socket.destroy()
    cb({ kind: 'refused', reason })
  }
  sniffTls(socket, sniffTimeoutMs, (isTls) => {
    const secureContext = ctx.certs.secureContext
    if (!isTls) return mode === 'STRICT' ? refuse('plaintext') : cb({ kind: 'plaintext' })
    if (!secureContext) return mode === 'STRICT' ? refuse('no_certificate') : cb({ kind: 'plaintext' })
    // The sniffed bytes were put back on the socket; TLSSocket feeds them to the handshake first.
    const tls = new TlsSocket(socket, {
      isServer: true,
      secureContext,
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: SERVER_ALPN,
    })
    let settled = false
    const timer = setTimeout(() => tls.destroy(), HANDSHAKE_TIMEOUT_MS)
    timer.unref()
    tls.on('error', (err) => {
      tls.destroy()
      socket.destroy()
      if (settled) return
      settled = true
      clearTimeout(timer)
      ctx.log.debug({ err, remote: socket.remoteAddress }, 'inbound mTLS handshake failed')
      ctx.metrics.mtlsRefused('handshake')
      cb({ kind: 'refused', reason: 'handshake' })
    })
    tls.once('close', () => {
      clearTimeout(timer)
      if (settled) return
      settled = true
      ctx.metrics.mtlsRefused('handshake')
      cb({ kind: 'refused', reason: 'handshake' })
    })
    tls.once('secure', () => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      // Reading starts with whoever takes the decrypted stream (HTTP server, sniffing, TCP pipe).
      tls.pause()
      cb({ kind: 'mtls', socket: tls, principal: peerPrincipalOf(tls) })
    })
  })
}
