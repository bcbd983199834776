// What the local cluster needs from the host, checked up front with messages that say what to do.
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { INSTALL_HOST_TOOLS_HINT, LocalClusterError } from '../errors.ts'
import type { HostExec } from './exec.ts'
import { cidrContains, cidrsOverlap, formatCidr, parseCidr, parseIp } from './ipv4.ts'

export const REQUIRED_TOOLS = [
  { bin: 'ip', pkg: 'iproute2' },
  { bin: 'iptables', pkg: 'iptables' },
  { bin: 'iptables-restore', pkg: 'iptables' },
  { bin: 'iptables-save', pkg: 'iptables' },
  { bin: 'setpriv', pkg: 'util-linux' },
] as const

function onPath(bin: string): boolean {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin']
  return dirs.some((dir) => {
    if (!dir) return false
    try {
      accessSync(join(dir, bin), constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

/** Throws MESH_ERR_LOCAL_NOT_ROOT unless this process is root (CAP_NET_ADMIN is needed for netns). */
export function checkRoot(): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new LocalClusterError(
      'MESH_ERR_LOCAL_NOT_ROOT',
      'the local cluster needs root (it creates network namespaces, a bridge and iptables rules); run it with sudo',
    )
  }
}

/** Throws MESH_ERR_LOCAL_MISSING_TOOL naming the missing binaries and the apt-get line. */
export function checkTools(): void {
  const missing = REQUIRED_TOOLS.filter((t) => !onPath(t.bin))
  if (missing.length === 0) return
  const pkgs = [...new Set(missing.map((m) => m.pkg))]
  throw new LocalClusterError(
    'MESH_ERR_LOCAL_MISSING_TOOL',
    `${missing.map((m) => m.bin).join(', ')} not found (package ${pkgs.join(', ')}); install with: apt-get update && apt-get install -y ${pkgs.join(' ')}  (or: ${INSTALL_HOST_TOOLS_HINT})`,
  )
}

interface AddrInfo {
  ifname: string
  addr_info?: { family: string; local: string; prefixlen: number }[]
}

/**
 * Throws MESH_ERR_LOCAL_RANGE_IN_USE when an interface other than our bridge already has an
 * address in the pod or service range, or a route for a part of it (another cluster, a VPN).
 * A wider route that merely contains ours (say 198.18.0.0/15 elsewhere) does not count: the
 * bridge's more specific route wins.
 */
export async function checkAddressRanges(
  exec: HostExec,
  opts: { bridge: string; podCidr: string; serviceCidr: string },
): Promise<void> {
  const ranges = [parseCidr(opts.podCidr), parseCidr(opts.serviceCidr)]
  const addrs = JSON.parse((await exec.run(['ip', '-j', '-4', 'addr', 'show'])) || '[]') as AddrInfo[]
  for (const link of addrs) {
    if (link.ifname === opts.bridge) continue
    for (const a of link.addr_info ?? []) {
      const hit = ranges.find((r) => cidrContains(r, parseIp(a.local)))
      if (hit)
        throw new LocalClusterError(
          'MESH_ERR_LOCAL_RANGE_IN_USE',
          `address range ${formatCidr(hit)} is in use: ${link.ifname} has ${a.local}/${a.prefixlen}; stop what uses it (another local cluster? \`meshctl local down\`) or pick other ranges`,
        )
    }
  }
  const routes = JSON.parse(
    (await exec.run(['ip', '-j', '-4', 'route', 'show', 'table', 'all'])) || '[]',
  ) as {
    dst: string
    dev?: string
    type?: string
  }[]
  for (const r of routes) {
    if (
      r.dev === opts.bridge ||
      !r.dst ||
      r.dst === 'default' ||
      r.type === 'broadcast' ||
      r.type === 'local'
    )
      continue
    const dst = parseCidr(r.dst)
    const hit = ranges.find((range) => cidrsOverlap(range, dst) && dst.bits >= range.bits)
    if (hit)
      throw new LocalClusterError(
        'MESH_ERR_LOCAL_RANGE_IN_USE',
        `address range ${formatCidr(hit)} is in use: a route to ${r.dst}${r.dev ? ` via ${r.dev}` : ''} exists; remove it or pick other ranges`,
      )
  }
}
