// Mesh mTLS on inbound capture chains (PeerAuthentication): a connection whose first byte is a TLS
// handshake record (0x16) is terminated with this workload's certificate, requiring a client
// certificate the mesh roots verify; its peer's principal (URI SAN) rides on the connection for
// the rest of the pipeline. STRICT closes anything else (plaintext, a failed handshake, or any
// connection before the proxy has a certificate); PERMISSIVE hands plaintext on as it came (and
// TLS too while it has no certificate: then the app sees the TLS, as with DISABLE).
import type { Socket } from 'node:net'
import { type TLSSocket, Server as TlsServer } from 'node:tls'
import { peerPrincipalOf, SERVER_ALPN } from '../cluster/mesh-tls.ts'
import type { ProxyContext } from '../context.ts'
import type { CertificateStore, WorkloadCertificate } from '../identity/certificates.ts'
import { sniffTls } from './sniff.ts'

/** A handshake that has not completed in this time is abandoned (Envoy's transport_socket_connect_timeout is 10 s too). */
const HANDSHAKE_TIMEOUT_MS = 10_000

type MtlsRefusal = 'plaintext' | 'no_certificate' | 'handshake'

export type InboundTlsVerdict =
  /** silent: nothing came within the sniffing timeout (a server-first protocol: TCP). */
  | { kind: 'plaintext'; silent: boolean }
  | { kind: 'mtls'; socket: TLSSocket; principal: string | undefined }
  | { kind: 'refused'; reason: MtlsRefusal }

type Pending = (tls: TLSSocket | undefined) => void

/**
 * The TLS server of one workload certificate (never listening: connections are handed to it).
 * node:tls's own server does what a hand-made server TLSSocket does not: it checks the client's
 * chain against the mesh roots (destroying the connection when it fails or is missing), sets
 * `authorized`, applies the handshake timeout, and ends the socket's connecting state (HTTP/2
 * sessions wait for it).
 */
interface CertServer {
  cert: WorkloadCertificate
  server: TlsServer
  /** Handshakes in progress by connection (remote address and port, local port). */
  pending: Map<string, Pending>
}

const servers = new WeakMap<CertificateStore, CertServer>()

const connKey = (s: Socket) => `${s.remoteAddress}|${s.remotePort}|${s.localPort}`

function serverFor(certs: CertificateStore, cert: WorkloadCertificate): CertServer {
  const had = servers.get(certs)
  if (had?.cert === cert) return had
  const pending = new Map<string, Pending>()
  const server = new TlsServer({
    cert: cert.certChainPem,
    key: cert.keyPem,
    ca: cert.rootsPem,
    requestCert: true,
    rejectUnauthorized: true,
    ALPNProtocols: SERVER_ALPN,
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
  })
  const settle = (tls: TLSSocket, ok: boolean) => {
    const key = connKey(tls)
    const cb = pending.get(key)
    if (!cb) return
    pending.delete(key)
    cb(ok ? tls : undefined)
  }
  server.on('secureConnection', (tls) => settle(tls, true))
  server.on('tlsClientError', (_err, tls) => settle(tls, false))
  const entry = { cert, server, pending }
  servers.set(certs, entry)
  return entry
}

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
  // STRICT takes nothing but TLS: a slow client gets the handshake's time to send its ClientHello.
  // PERMISSIVE decides at the sniffing timeout, so that a server-first protocol still works.
  const wait = mode === 'STRICT' ? HANDSHAKE_TIMEOUT_MS : sniffTimeoutMs
  sniffTls(socket, wait, (isTls, silent) => {
    const cert = ctx.certs.current
    if (!isTls) return mode === 'STRICT' ? refuse('plaintext') : cb({ kind: 'plaintext', silent })
    if (!cert) return mode === 'STRICT' ? refuse('no_certificate') : cb({ kind: 'plaintext', silent: false })
    const { server, pending } = serverFor(ctx.certs, cert)
    const key = connKey(socket)
    let settled = false
    const done: Pending = (tls) => {
      if (settled) return
      settled = true
      if (!tls) {
        ctx.log.debug({ remote: socket.remoteAddress }, 'inbound mTLS handshake failed')
        refuse('handshake')
        return
      }
      // Reading starts with whoever takes the decrypted stream (HTTP server, sniffing, TCP pipe).
      tls.pause()
      cb({ kind: 'mtls', socket: tls, principal: peerPrincipalOf(tls) })
    }
    pending.set(key, done)
    socket.once('close', () => {
      if (pending.get(key) === done) pending.delete(key)
      done(undefined)
    })
    // The sniffed bytes were put back on the socket; the TLS socket feeds them to the handshake.
    server.emit('connection', socket)
  })
}
