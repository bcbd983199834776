// Per-connection facts every request on a downstream connection shares: which listener and
// filter chain took it, where it was originally going, and who is calling.
import type { Socket } from 'node:net'
import type { FilterChain, Listener } from '@minimesh/api'
import type { XdsSnapshot } from '../config/store.ts'
import type { Direction } from '../http/record.ts'

export interface ConnContext {
  direction: Direction
  listener: Listener
  chain: FilterChain
  /** Original destination (SO_ORIGINAL_DST), or the local address when not redirected. */
  originalIp: string
  originalPort: number
  /** The same, as one object (ORIGINAL_DST clusters pick their host by it). */
  original: Destination
  remoteAddress: string
  /** The original destination is this very listener: passthrough would loop. */
  isSelf: boolean
  /**
   * The peer's principal (`cluster.local/ns/<ns>/sa/<sa>`, from the URI SAN of its verified mesh
   * certificate) when the connection came over mTLS; undefined for plaintext.
   */
  peerPrincipal?: string | undefined
  /** How the downstream connection was secured: 'mutual_tls' (mesh mTLS), 'tls' (gateway TLS), or none. */
  security?: 'mutual_tls' | 'tls' | undefined
}

/** Where a redirected connection was going. */
export interface Destination {
  address: string
  port: number
}

export type OriginalDestinationFn = (socket: Socket) => Destination

const kConn = Symbol('minimesh.conn')

export function setConn(socket: Socket, conn: ConnContext): void {
  ;(socket as unknown as Record<symbol, ConnContext>)[kConn] = conn
}

export function getConn(socket: Socket): ConnContext | undefined {
  return (socket as unknown as Record<symbol, ConnContext | undefined>)[kConn]
}

/** IPv4-mapped IPv6 (`::ffff:1.2.3.4`) as plain IPv4. */
export function plainAddress(a: string | undefined): string {
  if (!a) return ''
  return a.startsWith('::ffff:') ? a.slice(7) : a
}

/**
 * The connection's listener and filter chain in the current configuration. A configuration change
 * replaces the listener objects; a keep-alive connection follows its chain (by name) from its next
 * request, so a new AuthorizationPolicy or quota rule applies to connections already open, as
 * Envoy's drain of a changed filter chain brings about. A chain that is gone keeps the old one.
 */
export function refreshChain(current: XdsSnapshot, conn: ConnContext): void {
  const listener = current.listeners.get(conn.listener.name)
  if (listener === undefined || listener === conn.listener) return
  const name = conn.chain.name
  const chain =
    listener.filterChains.find((c) => c.name === name) ??
    (listener.defaultFilterChain?.name === name ? listener.defaultFilterChain : undefined)
  if (chain === undefined) return
  conn.listener = listener
  conn.chain = chain
}
