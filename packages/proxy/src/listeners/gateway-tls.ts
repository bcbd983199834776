// TLS termination on gateway listeners (a Gateway server with protocol HTTPS). The ClientHello is
// read first (tls_inspector) so that the filter chain is picked by its SNI, and with it the
// certificate and whether a client certificate is required; then the connection is wrapped in a
// server TLS socket with that chain's secure context (ALPN h2 or http/1.1), and the decrypted
// stream goes to the same HTTP/1.1 and HTTP/2 servers as plaintext gateway connections.
import type { Socket } from 'node:net'
import type { PeerCertificate, TLSSocket } from 'node:tls'
import type { FilterChain, Listener } from '@minimesh/api'
import type { ProxyContext } from '../context.ts'
import { inspectClientHello } from './client-hello.ts'
import type { ConnContext, Destination } from './conn.ts'
import { selectFilterChain } from './filter-chain.ts'
import { secureContextFor } from './gateway-secrets.ts'
import type { Dispatch } from './handler.ts'

/** How long a client has to send its ClientHello, and to finish the handshake. */
const HELLO_TIMEOUT_MS = 10_000
const HANDSHAKE_TIMEOUT_MS = 10_000

const nodeTls = () => process.getBuiltinModule('node:tls')

/** True when a gateway listener terminates TLS on some chain (the ClientHello must be read first). */
export function terminatesTls(listener: Listener): boolean {
  return listener.filterChains.some((fc) => fc.tls !== undefined)
}

/** The subject alternative names of a certificate, without their `DNS:`/`URI:`/`IP Address:` prefixes. */
function subjectAltNames(cert: PeerCertificate): string[] {
  const raw = cert.subjectaltname
  if (!raw) return []
  return raw.split(', ').map((e) => e.slice(e.indexOf(':') + 1))
}

/**
 * Why the client's certificate chain did not verify against the chain's CA, or undefined when it
 * did. A server socket made outside a tls.Server is not checked by Node (tls.Server does it in its
 * own 'secure' handler, with the same call): the OpenSSL verdict is read from the socket's handle.
 * Fails closed: a Node without that call refuses every client.
 */
function clientVerifyError(socket: TLSSocket): string | undefined {
  const handle = (socket as unknown as { _handle?: { verifyError?: () => Error | null } })._handle
  if (typeof handle?.verifyError !== 'function') return 'cannot read the verification result'
  const err = handle.verifyError()
  return err ? ((err as Error & { code?: string }).code ?? err.message) : undefined
}

export function handleGatewayTls(
  ctx: ProxyContext,
  d: Dispatch,
  socket: Socket,
  listener: Listener,
  dst: Destination,
  base: Omit<ConnContext, 'listener' | 'chain'>,
): void {
  inspectClientHello(socket, HELLO_TIMEOUT_MS, (hello) => {
    const sni = hello.tls ? hello.serverName : undefined
    const chain = selectFilterChain(listener, dst.address, dst.port, sni)
    if (!chain?.tls || !hello.tls) {
      // Plaintext on a TLS port, or an SNI no server takes: Envoy closes it too.
      ctx.log.debug(
        { listener: listener.name, sni, tls: hello.tls },
        'gateway: no TLS filter chain for connection',
      )
      socket.destroy()
      return
    }
    terminate(ctx, d, socket, listener, chain, sni, base)
  })
}

function terminate(
  ctx: ProxyContext,
  d: Dispatch,
  socket: Socket,
  listener: Listener,
  chain: FilterChain,
  sni: string | undefined,
  base: Omit<ConnContext, 'listener' | 'chain'>,
): void {
  const tls = chain.tls!
  // The snapshot of this moment: a Secret rotated later serves the connections made after it.
  const secret = ctx.store.current.secrets.get(tls.secretName)
  if (!secret) {
    ctx.log.warn(
      { listener: listener.name, secret: tls.secretName },
      'gateway: filter chain names a missing Secret',
    )
    socket.destroy()
    return
  }
  const mutual = tls.requireClientCertificate
  let tlsSocket: TLSSocket
  try {
    tlsSocket = new (nodeTls().TLSSocket)(socket, {
      isServer: true,
      secureContext: secureContextFor(secret, tls),
      requestCert: mutual,
      // No certificate at all fails the handshake itself; an untrusted one is checked below.
      rejectUnauthorized: mutual,
      ALPNProtocols: ['h2', 'http/1.1'],
    })
  } catch (err) {
    ctx.log.error({ err, listener: listener.name }, 'gateway: cannot start TLS')
    socket.destroy()
    return
  }
  const timer = setTimeout(() => tlsSocket.destroy(), HANDSHAKE_TIMEOUT_MS)
  timer.unref()
  const fail = (reason: string) => {
    clearTimeout(timer)
    ctx.log.debug(
      { listener: listener.name, chain: chain.name, sni, reason },
      'gateway: TLS handshake refused',
    )
    tlsSocket.destroy()
    socket.destroy()
  }
  tlsSocket.on('error', (err) => fail(err.message))
  tlsSocket.once('secure', () => {
    clearTimeout(timer)
    if (mutual) {
      const verifyError = clientVerifyError(tlsSocket)
      if (verifyError) return fail(`client certificate: ${verifyError}`)
      const wanted = tls.subjectAltNames
      if (wanted && wanted.length > 0) {
        const sans = subjectAltNames(tlsSocket.getPeerCertificate())
        if (!sans.some((s) => wanted.includes(s)))
          return fail(
            `client certificate SANs ${sans.join(', ') || '(none)'} are not among ${wanted.join(', ')}`,
          )
      }
    }
    // What tls.Server's own handler does once a server socket is secure: without it an HTTP/2
    // session waits for a 'secureConnect' that only client sockets emit.
    ;(tlsSocket as unknown as { secureConnecting: boolean }).secureConnecting = false
    const conn: ConnContext = { ...base, listener, chain, security: 'tls' }
    d.http(tlsSocket as unknown as Socket, conn, tlsSocket.alpnProtocol === 'h2' ? 'http2' : 'http')
  })
}
