// Names of the kernel objects the cluster makes: netns, veth ends, iptables chains. Linux limits
// interface names to 15 characters, so veth names carry a short hash of the pod's netns name.
import { createHash } from 'node:crypto'

/** Longest interface name Linux accepts (IFNAMSIZ - 1). */
export const IFNAME_MAX = 15

function shortHash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length)
}

function clean(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9-]/g, '-')
}

/**
 * The netns of a pod: `<prefix>-<ns>-<pod>`, unique and recognisable. Long names are cut and end in
 * a hash of the full name so that two pods never share one.
 */
export function netnsName(prefix: string, namespace: string, pod: string): string {
  const full = `${prefix}-${clean(namespace)}-${clean(pod)}`
  if (full.length <= 60) return full
  return `${full.slice(0, 51)}-${shortHash(full, 8)}`
}

/**
 * The two ends of a pod's veth: the host end (on the bridge) and the pod end (renamed to eth0 in
 * the pod). `<prefix>h<hash>` and `<prefix>p<hash>`, at most 15 characters.
 */
export function vethNames(prefix: string, netns: string): { host: string; peer: string } {
  const room = IFNAME_MAX - prefix.length - 1
  const hash = shortHash(netns, Math.max(4, room))
  return { host: `${prefix}h${hash}`.slice(0, IFNAME_MAX), peer: `${prefix}p${hash}`.slice(0, IFNAME_MAX) }
}
