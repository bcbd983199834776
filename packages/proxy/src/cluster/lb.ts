// Load balancers over a cluster's available hosts: ROUND_ROBIN, LEAST_REQUEST (power of two
// choices), RANDOM, and RING_HASH (a consistent-hash ring, rebuilt when the host set changes).
import type { Cluster } from '@minimesh/api'
import type { Host } from './host.ts'

export interface LoadBalancer {
  /**
   * A host from `hosts` (non-empty). `hash` is the request's hash key (RING_HASH only);
   * `avoid` holds hosts already tried by this request (retries prefer others).
   */
  pick(hosts: readonly Host[], generation: number, hash: number | undefined, avoid?: ReadonlySet<Host>): Host
}

function avoidOnce(
  hosts: readonly Host[],
  first: Host,
  avoid: ReadonlySet<Host> | undefined,
  next: () => Host,
): Host {
  if (!avoid?.has(first) || hosts.length === 1) return first
  for (let i = 0; i < 3; i++) {
    const h = next()
    if (!avoid.has(h)) return h
  }
  return first
}

class RoundRobin implements LoadBalancer {
  private i = 0
  pick(hosts: readonly Host[], _g: number, _h: number | undefined, avoid?: ReadonlySet<Host>): Host {
    const next = () => hosts[this.i++ % hosts.length]!
    return avoidOnce(hosts, next(), avoid, next)
  }
}

class Random implements LoadBalancer {
  pick(hosts: readonly Host[], _g: number, _h: number | undefined, avoid?: ReadonlySet<Host>): Host {
    const next = () => hosts[Math.floor(Math.random() * hosts.length)]!
    return avoidOnce(hosts, next(), avoid, next)
  }
}

/** Two distinct random choices, the one with fewer in-flight requests wins (power of two choices). */
class LeastRequest implements LoadBalancer {
  pick(hosts: readonly Host[], _g: number, _h: number | undefined, avoid?: ReadonlySet<Host>): Host {
    const next = () => {
      const n = hosts.length
      if (n === 1) return hosts[0]!
      const i = Math.floor(Math.random() * n)
      const j = (i + 1 + Math.floor(Math.random() * (n - 1))) % n
      const a = hosts[i]!
      const b = hosts[j]!
      return b.active < a.active ? b : a
    }
    return avoidOnce(hosts, next(), avoid, next)
  }
}

const POINTS_PER_HOST = 128

/** 32-bit FNV-1a of a string. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** Mixes a 32-bit value (murmur3 finalizer) so ring points spread evenly. */
function mix(x: number): number {
  let h = x
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

class RingHash implements LoadBalancer {
  private generation = -1
  private hashes = new Uint32Array(0)
  private owners: Host[] = []
  private readonly fallback = new RoundRobin()

  private build(hosts: readonly Host[]): void {
    const points: [number, Host][] = []
    for (const h of hosts) {
      const n = POINTS_PER_HOST * (h.endpoint.weight ?? 1)
      for (let i = 0; i < n; i++) points.push([mix(fnv1a(`${h.key}_${i}`)), h])
    }
    points.sort((a, b) => a[0] - b[0])
    this.hashes = Uint32Array.from(points, (p) => p[0])
    this.owners = points.map((p) => p[1])
  }

  pick(
    hosts: readonly Host[],
    generation: number,
    hash: number | undefined,
    avoid?: ReadonlySet<Host>,
  ): Host {
    if (hash === undefined) return this.fallback.pick(hosts, generation, hash, avoid)
    if (generation !== this.generation) {
      this.build(hosts)
      this.generation = generation
    }
    const key = mix(hash)
    const hs = this.hashes
    let lo = 0
    let hi = hs.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (hs[mid]! < key) lo = mid + 1
      else hi = mid
    }
    let i = lo === hs.length ? 0 : lo
    let host = this.owners[i]!
    // A retry walks the ring to the next distinct host.
    if (avoid?.has(host)) {
      for (let step = 0; step < this.owners.length; step++) {
        i = (i + 1) % this.owners.length
        const h = this.owners[i]!
        if (!avoid.has(h)) {
          host = h
          break
        }
      }
    }
    return host
  }
}

export function makeLoadBalancer(policy: Cluster['lbPolicy']): LoadBalancer {
  switch (policy) {
    case 'LEAST_REQUEST':
      return new LeastRequest()
    case 'RANDOM':
      return new Random()
    case 'RING_HASH':
      return new RingHash()
    default:
      return new RoundRobin()
  }
}
