// The outbound capture listener (virtualOutbound, 15001): a connection iptables redirected from
// the application is dispatched by its original destination: listener `<ip>_<port>`, then
// `0.0.0.0_<port>`, else virtualOutbound's own chains (default: passthrough). On an HTTP chain
// the first bytes decide: HTTP/1.x or an HTTP/2 preface goes to the HTTP (or HTTP/2) server
// (routes for that port), anything else is proxied as TCP to the original destination.
import type { Socket } from 'node:net'
import type { Listener } from '@minimesh/api'
import type { ProxyContext } from '../context.ts'
import type { ConnContext, Destination } from './conn.ts'
import { selectFilterChain } from './filter-chain.ts'
import type { SniffVerdict } from './sniff.ts'

export const SNIFF_TIMEOUT_MS = 100

/** The listener that handles a captured connection to `dst`. */
function outboundListener(ctx: ProxyContext, capture: Listener, dst: Destination): Listener {
  const ls = ctx.store.current.listeners
  const own = (l: Listener | undefined) => (l && l.name !== capture.name ? l : undefined)
  return own(ls.get(`${dst.address}_${dst.port}`)) ?? own(ls.get(`0.0.0.0_${dst.port}`)) ?? capture
}

/** The HTTP versions a connection can be handed over in. */
type HttpKind = Exclude<SniffVerdict, 'tcp'>

export interface Dispatch {
  http(socket: Socket, conn: ConnContext, kind: HttpKind): void
  tcp(socket: Socket, conn: ConnContext, cluster: string): void
  sniffThen(socket: Socket, onHttp: (kind: HttpKind) => void, onTcp: () => void): void
}

export function handleOutbound(
  ctx: ProxyContext,
  d: Dispatch,
  socket: Socket,
  capture: Listener,
  dst: Destination,
  base: Omit<ConnContext, 'listener' | 'chain'>,
): void {
  const listener = outboundListener(ctx, capture, dst)
  const chain = selectFilterChain(listener, dst.address, dst.port)
  if (!chain) {
    socket.destroy()
    return
  }
  const conn: ConnContext = { ...base, listener, chain }
  if (chain.tcp) {
    d.tcp(socket, conn, chain.tcp.cluster)
    return
  }
  // HTTP chain: HTTP/1.x and h2c clients get routed; anything else goes straight through.
  const fallback = capture.defaultFilterChain?.tcp?.cluster ?? 'PassthroughCluster'
  d.sniffThen(
    socket,
    (kind) => d.http(socket, conn, kind),
    () => d.tcp(socket, { ...conn, chain: capture.defaultFilterChain ?? chain }, fallback),
  )
}
