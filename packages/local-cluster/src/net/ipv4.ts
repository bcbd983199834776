// IPv4 addresses and CIDR ranges as plain numbers: parse, format, contain, allocate.
import { LocalClusterError } from '../errors.ts'

export interface Cidr {
  /** Network address (host bits zero) as an unsigned 32-bit number. */
  base: number
  bits: number
}

export function parseIp(text: string): number {
  const parts = text.split('.')
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new LocalClusterError('MESH_ERR_LOCAL_INVALID', `"${text}" is not an IPv4 address`)
  }
  return parts.reduce((n, p) => n * 256 + Number(p), 0)
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')
}

function maskOf(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
}

/** `a.b.c.d/n` (a bare address is a /32). */
export function parseCidr(text: string): Cidr {
  const [ip, len] = text.split('/')
  const bits = len === undefined ? 32 : Number(len)
  if (ip === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) {
    throw new LocalClusterError('MESH_ERR_LOCAL_INVALID', `"${text}" is not an IPv4 CIDR`)
  }
  return { base: (parseIp(ip) & maskOf(bits)) >>> 0, bits }
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.base)}/${c.bits}`
}

function cidrSize(c: Cidr): number {
  return 2 ** (32 - c.bits)
}

export function cidrContains(c: Cidr, ip: number): boolean {
  return (ip & maskOf(c.bits)) >>> 0 === c.base
}

/** True when the two ranges share at least one address. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  const bits = Math.min(a.bits, b.bits)
  return (a.base & maskOf(bits)) >>> 0 === (b.base & maskOf(bits)) >>> 0
}

/** The n-th address of a range (0 = the network address). */
export function nthIp(c: Cidr, n: number): number {
  return (c.base + n) >>> 0
}

/**
 * Hands out addresses of a range, skipping the network and broadcast addresses and any reserved
 * ones (the bridge's own). Released addresses are reused last, so a restarted pod rarely gets the
 * address a just-deleted pod had (stale conntrack entries would otherwise hit it).
 */
export class IpAllocator {
  readonly #cidr: Cidr
  readonly #used = new Set<number>()
  #next = 1

  constructor(cidr: Cidr, reserved: number[] = []) {
    this.#cidr = cidr
    for (const r of reserved) this.#used.add(r)
  }

  allocate(): string {
    const size = cidrSize(this.#cidr)
    for (let i = 0; i < size - 2; i++) {
      const offset = ((this.#next - 1 + i) % (size - 2)) + 1
      const ip = nthIp(this.#cidr, offset)
      if (!this.#used.has(ip)) {
        this.#used.add(ip)
        this.#next = offset + 1
        return formatIp(ip)
      }
    }
    throw new LocalClusterError(
      'MESH_ERR_LOCAL_ADDRESSES_EXHAUSTED',
      `no free address left in ${formatCidr(this.#cidr)}`,
    )
  }

  /** Marks a specific address used (a Service's own spec.clusterIP); false when taken or outside. */
  claim(ip: string): boolean {
    const n = parseIp(ip)
    if (!cidrContains(this.#cidr, n) || this.#used.has(n)) return false
    this.#used.add(n)
    return true
  }

  release(ip: string): void {
    this.#used.delete(parseIp(ip))
  }
}
