// Listeners that own their port (the ingress gateway's 0.0.0.0_8080, or any bindToPort listener
// that is not a capture listener): the chain is chosen by the local port, and HTTP chains go to
// the HTTP server (routes bound to the Gateway, matched by `port` too). The first bytes only tell
// HTTP/2 with prior knowledge (h2c) from HTTP/1.x: whatever is not an h2 preface is HTTP/1.x, and
// the HTTP/1 parser answers garbage with 400.
import type { Socket } from 'node:net'
import type { Listener } from '@minimesh/api'
import type { ConnContext, Destination } from './conn.ts'
import { selectFilterChain } from './filter-chain.ts'
import type { Dispatch } from './outbound.ts'

export function handleDirect(
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
  if (chain.tcp) d.tcp(socket, conn, chain.tcp.cluster)
  else
    d.sniffThen(
      socket,
      (kind) => d.http(socket, conn, kind),
      () => d.http(socket, conn, 'http'),
    )
}
