// The inbound capture listener (virtualInbound, 15006): a connection to one of this pod's ports
// takes the filter chain for its original destination port: HTTP (1.x or h2c) goes to the HTTP server (the
// chain's `inbound|PORT||` cluster, then the app on 127.0.0.1:PORT; server-side policy runs
// there), TCP is piped; no chain: the default (InboundPassthroughCluster). Non-HTTP bytes on an
// HTTP chain are passed through as TCP.
import type { Socket } from 'node:net'
import type { Listener } from '@minimesh/api'
import type { ConnContext, Destination } from './conn.ts'
import { selectFilterChain } from './filter-chain.ts'
import type { Dispatch } from './outbound.ts'

export function handleInbound(
  d: Dispatch,
  socket: Socket,
  listener: Listener,
  dst: Destination,
  base: Omit<ConnContext, 'listener' | 'chain'>,
): void {
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
  const fallback = listener.defaultFilterChain?.tcp?.cluster ?? 'InboundPassthroughCluster'
  d.sniffThen(
    socket,
    (kind) => d.http(socket, conn, kind),
    () => d.tcp(socket, conn, fallback),
  )
}
