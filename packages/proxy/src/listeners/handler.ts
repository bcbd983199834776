// A connection accepted on a bound listener, handed to HTTP or TCP. One handler for every kind
// of listener, parameterised by its side:
// - outbound (virtualOutbound, iptables-captured from the app): the listener for the
//   original destination, `<ip>_<port>` then `0.0.0.0_<port>`, else virtualOutbound's own chains;
//   non-HTTP bytes on an HTTP chain go through as TCP to the passthrough (default) cluster;
// - inbound (virtualInbound): the chain for the destination port; non-HTTP bytes on an
//   HTTP chain go to the app as TCP (InboundPassthroughCluster by default);
// - gateway (any listener that owns its port, such as the ingress gateway's 8080): the chain by
//   the local port; whatever is not an HTTP/2 preface is HTTP/1.x, and its parser answers
//   garbage with 400. A gateway listener with TLS chains picks the chain by SNI and terminates
//   TLS first (gateway-tls.ts).
// On an HTTP chain the first bytes decide between HTTP/1.x and HTTP/2 with prior knowledge (h2c).
// Inbound chains with mesh mTLS (STRICT, PERMISSIVE) first tell TLS from plaintext and terminate
// the TLS; the decrypted stream then goes the same way as a plaintext one.
import type { Socket } from 'node:net'
import type { FilterChain, Listener } from '@minimesh/api'
import type { ProxyContext } from '../context.ts'
import type { ConnContext, Destination } from './conn.ts'
import { selectFilterChain } from './filter-chain.ts'
import { handleGatewayTls, terminatesTls } from './gateway-tls.ts'
import type { InboundTlsVerdict } from './inbound-tls.ts'
import type { SniffVerdict } from './sniff.ts'

export const SNIFF_TIMEOUT_MS = 100
/** How long a client of a known HTTP destination may stay silent before it is treated as TCP. */
const SLOW_CLIENT_TIMEOUT_MS = 60_000

export type ListenerSide = 'outbound' | 'inbound' | 'gateway'

/** The HTTP versions a connection can be handed over in. */
type HttpKind = Exclude<SniffVerdict, 'tcp'>

export interface Dispatch {
  http(socket: Socket, conn: ConnContext, kind: HttpKind): void
  tcp(socket: Socket, conn: ConnContext, cluster: string): void
  sniffThen(
    socket: Socket,
    timeoutMs: number,
    onHttp: (kind: HttpKind) => void,
    onTcp: (timedOut: boolean) => void,
  ): void
  /** Mesh mTLS on an inbound chain: TLS terminated, plaintext passed on, or the connection refused. */
  inboundTls(socket: Socket, mode: 'STRICT' | 'PERMISSIVE', cb: (verdict: InboundTlsVerdict) => void): void
}

interface SideRules {
  /** The listener whose filter chains apply. */
  listener(ctx: ProxyContext, bound: Listener, dst: Destination): Listener
  /** Where non-HTTP bytes on an HTTP chain go (TCP); undefined: they are HTTP/1.x anyway. */
  fallback(bound: Listener, chain: FilterChain): { cluster: string; chain: FilterChain } | undefined
}

const SIDES: Record<ListenerSide, SideRules> = {
  outbound: {
    listener: (ctx, capture, dst) => {
      const ls = ctx.store.current.listeners
      const own = (l: Listener | undefined) => (l && l.name !== capture.name ? l : undefined)
      return own(ls.get(`${dst.address}_${dst.port}`)) ?? own(ls.get(`0.0.0.0_${dst.port}`)) ?? capture
    },
    fallback: (capture, chain) => ({
      cluster: capture.defaultFilterChain?.tcp?.cluster ?? 'PassthroughCluster',
      chain: capture.defaultFilterChain ?? chain,
    }),
  },
  inbound: {
    listener: (_ctx, bound) => bound,
    fallback: (bound, chain) => ({
      cluster: bound.defaultFilterChain?.tcp?.cluster ?? 'InboundPassthroughCluster',
      chain,
    }),
  },
  gateway: {
    listener: (_ctx, bound) => bound,
    fallback: () => undefined,
  },
}

export function handleConnection(
  ctx: ProxyContext,
  d: Dispatch,
  side: ListenerSide,
  socket: Socket,
  bound: Listener,
  dst: Destination,
  base: Omit<ConnContext, 'listener' | 'chain'>,
): void {
  // Gateway TLS: the chain is picked by the ClientHello's SNI, then TLS is terminated.
  if (side === 'gateway' && terminatesTls(bound)) {
    handleGatewayTls(ctx, d, socket, bound, dst, base)
    return
  }
  const rules = SIDES[side]
  const listener = rules.listener(ctx, bound, dst)
  const chain = selectFilterChain(listener, dst.address, dst.port)
  if (!chain) {
    socket.destroy()
    return
  }
  const conn: ConnContext = { ...base, listener, chain }
  const serve = (sock: Socket, c: ConnContext, silent = false) =>
    serveChain(ctx, d, side, rules, bound, dst, sock, c, silent)
  const mtls = side === 'inbound' ? chain.mtls?.mode : undefined
  if (mtls === 'STRICT' || mtls === 'PERMISSIVE') {
    d.inboundTls(socket, mtls, (v) => {
      if (v.kind === 'plaintext') serve(socket, conn, v.silent)
      else if (v.kind === 'mtls')
        serve(v.socket, { ...conn, peerPrincipal: v.principal, security: 'mutual_tls' })
    })
    return
  }
  serve(socket, conn)
}

/**
 * Hands a (plaintext or decrypted) connection to its chain: TCP, or HTTP after sniffing. `silent`:
 * the client has already been quiet for a sniffing timeout (mesh mTLS sniffing came first).
 */
function serveChain(
  ctx: ProxyContext,
  d: Dispatch,
  side: ListenerSide,
  rules: SideRules,
  bound: Listener,
  dst: Destination,
  socket: Socket,
  conn: ConnContext,
  silent: boolean,
): void {
  const chain = conn.chain
  if (chain.tcp) {
    d.tcp(socket, conn, chain.tcp.cluster)
    return
  }
  const onHttp = (kind: HttpKind) => d.http(socket, conn, kind)
  const fallback = () => {
    const fb = rules.fallback(bound, chain)
    if (fb) d.tcp(socket, { ...conn, chain: fb.chain }, fb.cluster)
    else d.http(socket, conn, 'http')
  }
  const onTcp = (timedOut: boolean) => {
    // A client that is only slow to send its request (a busy event loop, a loaded machine) to a
    // port this proxy knows is HTTP must not lose its routing to a passthrough: wait for its bytes.
    if (timedOut && declaredHttp(ctx, side, chain, dst))
      d.sniffThen(socket, SLOW_CLIENT_TIMEOUT_MS, onHttp, fallback)
    else fallback()
  }
  if (silent) onTcp(true)
  else d.sniffThen(socket, SNIFF_TIMEOUT_MS, onHttp, onTcp)
}

/**
 * True when the connection's destination is known to speak HTTP: on the inbound side, a port of
 * this workload's Services (a chain matched by port); on the outbound side, a service address
 * the chain's routes name (its ClusterIP, with or without the port). Anything else on an HTTP
 * port (another destination that happens to use it) may be a server-first protocol.
 */
function declaredHttp(ctx: ProxyContext, side: ListenerSide, chain: FilterChain, dst: Destination): boolean {
  if (side === 'inbound') return chain.match?.destinationPort !== undefined
  if (side !== 'outbound') return false
  const name = chain.http?.routeConfigName
  const rc = name === undefined ? undefined : ctx.store.current.routes.get(name)
  return rc !== undefined && (rc.exact.has(`${dst.address}:${dst.port}`) || rc.exact.has(dst.address))
}
