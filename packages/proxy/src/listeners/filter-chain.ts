// Filter-chain selection for a connection, by its original destination (Envoy's order: a chain
// naming the destination port beats one that does not; then a matching address prefix beats
// none; then, on gateway TLS chains, the SNI server name: exact, wildcard, none). Nothing
// matching: the listener's defaultFilterChain.
import { isIPv4 } from 'node:net'
import type { FilterChain, Listener } from '@minimesh/api'

function ipv4ToInt(ip: string): number {
  const p = ip.split('.')
  return (((Number(p[0]) << 24) | (Number(p[1]) << 16) | (Number(p[2]) << 8) | Number(p[3])) >>> 0) as number
}

/** Does `ip` fall in `cidr` (`a.b.c.d/n` or a bare address)? IPv6: exact match only. */
export function inCidr(ip: string, cidr: string): boolean {
  const slash = cidr.indexOf('/')
  const base = slash < 0 ? cidr : cidr.slice(0, slash)
  if (!isIPv4(ip) || !isIPv4(base)) return ip === base
  const bits = slash < 0 ? 32 : Number(cidr.slice(slash + 1))
  if (bits <= 0) return true
  const mask = bits >= 32 ? 0xffffffff : ~((1 << (32 - bits)) - 1) >>> 0
  return (ipv4ToInt(ip) & mask) >>> 0 === (ipv4ToInt(base) & mask) >>> 0
}

/**
 * How well a chain's server names take the client's SNI: 3 exact, 2 a wildcard (`*.example.com`),
 * 1 the chain names none, -1 it names others (or the client sent no SNI).
 */
function serverNameScore(names: readonly string[] | undefined, sni: string | undefined): number {
  if (!names || names.length === 0) return 1
  if (sni === undefined) return -1
  if (names.includes(sni)) return 3
  return names.some((n) => n.startsWith('*.') && sni.endsWith(n.slice(1))) ? 2 : -1
}

/**
 * The chain for a connection: by destination port, then address, then (gateway TLS chains) the
 * SNI server name, as Envoy orders them.
 */
export function selectFilterChain(
  listener: Listener,
  dstIp: string,
  dstPort: number,
  serverName?: string,
): FilterChain | undefined {
  let best: FilterChain | undefined
  let bestScore = -1
  for (const fc of listener.filterChains) {
    const m = fc.match
    let score = 0
    if (m?.destinationPort !== undefined) {
      if (m.destinationPort !== dstPort) continue
      score += 8
    }
    if (m?.prefixRanges && m.prefixRanges.length > 0) {
      if (!m.prefixRanges.some((c) => inCidr(dstIp, c))) continue
      score += 4
    }
    const sni = serverNameScore(m?.serverNames, serverName)
    if (sni < 0) continue
    score += sni
    if (score > bestScore) {
      best = fc
      bestScore = score
    }
  }
  return best ?? listener.defaultFilterChain
}
