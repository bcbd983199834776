// Filter-chain selection for a connection, by its original destination (Envoy's order: a chain
// naming the destination port beats one that does not; then a matching address prefix beats
// none; then, on gateway TLS chains, the SNI server name: exact, wildcard, none). Nothing
// matching: the listener's defaultFilterChain.
import { BlockList, isIP } from 'node:net'
import type { FilterChain, Listener } from '@minimesh/api'

const FAMILY = { 4: 'ipv4', 6: 'ipv6' } as const

// One BlockList per prefix range, made on first use (ranges come from the configuration: few).
const blocks = new Map<string, BlockList | null>()

function blockOf(cidr: string): BlockList | null {
  let block = blocks.get(cidr)
  if (block !== undefined) return block
  const slash = cidr.indexOf('/')
  const base = slash < 0 ? cidr : cidr.slice(0, slash)
  const family = isIP(base)
  const bits = slash < 0 ? (family === 4 ? 32 : 128) : Number(cidr.slice(slash + 1))
  block = null
  if (
    (family === 4 || family === 6) &&
    Number.isInteger(bits) &&
    bits >= 0 &&
    bits <= (family === 4 ? 32 : 128)
  ) {
    block = new BlockList()
    block.addSubnet(base, bits, FAMILY[family])
  }
  if (blocks.size >= 4096) blocks.clear()
  blocks.set(cidr, block)
  return block
}

/**
 * Does `ip` fall in `cidr` (`a.b.c.d/n`, `x:y::/n` or a bare address)? Both families, through
 * node:net's BlockList: an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is in the IPv4 ranges.
 * Not an address or not a range: false.
 */
export function inCidr(ip: string, cidr: string): boolean {
  const family = isIP(ip)
  const block = blockOf(cidr)
  return block !== null && (family === 4 || family === 6) && block.check(ip, FAMILY[family])
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
