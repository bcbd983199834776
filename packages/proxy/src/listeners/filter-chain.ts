// Filter-chain selection for a connection, by its original destination (Envoy's order: a chain
// naming the destination port beats one that does not; then a matching address prefix beats
// none). Nothing matching: the listener's defaultFilterChain.
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

export function selectFilterChain(
  listener: Listener,
  dstIp: string,
  dstPort: number,
): FilterChain | undefined {
  let best: FilterChain | undefined
  let bestScore = -1
  for (const fc of listener.filterChains) {
    const m = fc.match
    let score = 0
    if (m?.destinationPort !== undefined) {
      if (m.destinationPort !== dstPort) continue
      score += 2
    }
    if (m?.prefixRanges && m.prefixRanges.length > 0) {
      if (!m.prefixRanges.some((c) => inCidr(dstIp, c))) continue
      score += 1
    }
    if (score > bestScore) {
      best = fc
      bestScore = score
    }
  }
  return best ?? listener.defaultFilterChain
}
