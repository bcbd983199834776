// kube-proxy's job for traffic from outside the mesh (the host, pods without a sidecar): the host
// netns's iptables DNAT a ClusterIP:port to one of the Service's ready endpoints. Pure: builds
// iptables argv lists and iptables-restore text; net/network.ts runs them.
import { createHash } from 'node:crypto'

export interface ServiceRuleSet {
  /** Chain name prefix, e.g. `MM`; every chain made starts with it. */
  chainPrefix: string
  bridge: string
  podCidr: string
  serviceCidr: string
}

export interface ServicePortRule {
  /** `<ns>/<svc>:<port name or number>`, for the chain comment. */
  id: string
  clusterIp: string
  port: number
  protocol: 'tcp' | 'udp'
  /** Ready endpoints as ip:port; empty means the port is rejected. */
  endpoints: { ip: string; port: number }[]
}

/** One rule in a built-in chain: where it hooks ours in. Kept so that teardown can delete exactly it. */
export interface HookRule {
  table: 'nat' | 'filter'
  chain: string
  spec: string[]
}

function chainNames(set: ServiceRuleSet) {
  const p = set.chainPrefix
  return {
    services: `${p}-SERVICES`,
    postrouting: `${p}-POSTROUTING`,
    forward: `${p}-FORWARD`,
    output: `${p}-OUTPUT`,
    servicePortPrefix: `${p}-SVC-`,
  }
}

/** The user chains this set owns, by table (created at setup, flushed and deleted at teardown). */
export function ownChains(set: ServiceRuleSet): { table: 'nat' | 'filter'; chain: string }[] {
  const c = chainNames(set)
  return [
    { table: 'nat', chain: c.services },
    { table: 'nat', chain: c.postrouting },
    { table: 'filter', chain: c.forward },
    { table: 'filter', chain: c.output },
  ]
}

/** Jumps from the built-in chains into ours; inserted first so a host's DROP policy cannot hide pods. */
export function hookRules(set: ServiceRuleSet): HookRule[] {
  const c = chainNames(set)
  const comment = ['-m', 'comment', '--comment', 'minimesh local cluster']
  return [
    { table: 'nat', chain: 'PREROUTING', spec: ['-d', set.serviceCidr, ...comment, '-j', c.services] },
    { table: 'nat', chain: 'OUTPUT', spec: ['-d', set.serviceCidr, ...comment, '-j', c.services] },
    { table: 'nat', chain: 'POSTROUTING', spec: [...comment, '-j', c.postrouting] },
    { table: 'filter', chain: 'FORWARD', spec: [...comment, '-j', c.forward] },
    { table: 'filter', chain: 'OUTPUT', spec: ['-d', set.serviceCidr, ...comment, '-j', c.output] },
  ]
}

/**
 * The fixed rules of our own chains. A packet still addressed to a ClusterIP after DNAT had no
 * ready endpoint: it is rejected (connection refused at once, as kube-proxy does) rather than
 * routed off the host. Connections a pod makes to a ClusterIP that land on a pod (itself included:
 * the bridge ports run in hairpin mode) are masqueraded so replies come back through the host's
 * conntrack whether or not br_netfilter is loaded. Pods reach each other and the host, nothing else.
 */
export function baseRules(set: ServiceRuleSet): string {
  const c = chainNames(set)
  const b = set.bridge
  return [
    '*nat',
    `:${c.postrouting} - [0:0]`,
    `-A ${c.postrouting} -s ${set.podCidr} -d ${set.podCidr} -m conntrack --ctstate DNAT -j MASQUERADE`,
    'COMMIT',
    '*filter',
    `:${c.forward} - [0:0]`,
    `:${c.output} - [0:0]`,
    `-A ${c.forward} -d ${set.serviceCidr} -p tcp -j REJECT --reject-with tcp-reset`,
    `-A ${c.forward} -d ${set.serviceCidr} -j REJECT`,
    `-A ${c.forward} -i ${b} -o ${b} -j ACCEPT`,
    `-A ${c.forward} -i ${b} -j REJECT`,
    `-A ${c.forward} -o ${b} -j REJECT`,
    `-A ${c.output} -p tcp -j REJECT --reject-with tcp-reset`,
    `-A ${c.output} -j REJECT`,
    'COMMIT',
    '',
  ].join('\n')
}

function portChain(set: ServiceRuleSet, rule: ServicePortRule): string {
  const h = createHash('sha256')
    .update(`${rule.id}/${rule.protocol}`)
    .digest('hex')
    .slice(0, 12)
    .toUpperCase()
  return `${chainNames(set).servicePortPrefix}${h}`
}

/**
 * The ClusterIP DNAT rules, as one iptables-restore --noflush transaction: our services chain is
 * declared (so flushed) and refilled, one chain per Service port picks an endpoint with
 * `-m statistic --mode random` (probability 1/n, 1/(n-1), …, last one unconditional), and the
 * per-port chains no longer needed are flushed and deleted. Returns the text and the chains now in use.
 */
export function serviceRules(
  set: ServiceRuleSet,
  rules: readonly ServicePortRule[],
  previousChains: readonly string[] = [],
): { text: string; chains: string[] } {
  const c = chainNames(set)
  const sorted = [...rules]
    .filter((r) => r.endpoints.length > 0)
    .sort((a, b) => a.id.localeCompare(b.id) || a.protocol.localeCompare(b.protocol))
  const chains = sorted.map((r) => portChain(set, r))
  const stale = [...new Set(previousChains)].filter((ch) => !chains.includes(ch)).sort()
  const lines = ['*nat', `:${c.services} - [0:0]`]
  for (const ch of [...new Set(chains), ...stale]) lines.push(`:${ch} - [0:0]`)
  for (const [i, r] of sorted.entries()) {
    const ch = chains[i]!
    const comment = `"${r.id.replace(/"/g, '')}"`
    lines.push(
      `-A ${c.services} -d ${r.clusterIp}/32 -p ${r.protocol} -m ${r.protocol} --dport ${r.port} -m comment --comment ${comment} -j ${ch}`,
    )
    const eps = [...r.endpoints].sort((a, b) => a.ip.localeCompare(b.ip) || a.port - b.port)
    for (const [j, ep] of eps.entries()) {
      const left = eps.length - j
      const pick = left > 1 ? ` -m statistic --mode random --probability ${(1 / left).toFixed(10)}` : ''
      lines.push(`-A ${ch} -p ${r.protocol}${pick} -j DNAT --to-destination ${ep.ip}:${ep.port}`)
    }
  }
  for (const ch of stale) lines.push(`-X ${ch}`)
  lines.push('COMMIT', '')
  return { text: lines.join('\n'), chains: [...new Set(chains)] }
}
