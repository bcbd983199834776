// The hosts file of a pod's netns (/etc/netns/<netns>/hosts, which `ip netns exec` binds over
// /etc/hosts): every Service's DNS names mapped to its ClusterIP, as cluster DNS would answer.

export interface ServiceAddress {
  name: string
  namespace: string
  /** The ClusterIP, or for a headless Service the ready pod addresses. */
  addresses: string[]
}

export interface HostsFileInput {
  podName: string
  podNamespace: string
  podIp: string
  services: readonly ServiceAddress[]
  clusterDomain?: string
}

/**
 * Renders the hosts file. Short names (`reviews`) resolve in the pod's own namespace, like a
 * resolv.conf search path `<ns>.svc.cluster.local`; `name.ns`, `name.ns.svc` and the FQDN resolve
 * everywhere. Sorted, so an unchanged cluster renders byte-identical files.
 */
export function renderHostsFile(input: HostsFileInput): string {
  const domain = input.clusterDomain ?? 'cluster.local'
  const lines = [
    '# written by minimesh local cluster; rewritten as Services come and go',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    `${input.podIp}\t${input.podName}`,
  ]
  const services = [...input.services].sort(
    (a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name),
  )
  for (const s of services) {
    const names = [
      `${s.name}.${s.namespace}.svc.${domain}`,
      `${s.name}.${s.namespace}.svc`,
      `${s.name}.${s.namespace}`,
    ]
    if (s.namespace === input.podNamespace) names.push(s.name)
    for (const ip of s.addresses) lines.push(`${ip}\t${names.join(' ')}`)
  }
  return `${lines.join('\n')}\n`
}

/** resolv.conf for a pod: no reachable DNS server, so a name not in the hosts file fails at once. */
export function renderResolvConf(podNamespace: string, clusterDomain = 'cluster.local'): string {
  return `# written by minimesh local cluster: names come from the hosts file\nnameserver 127.0.0.1\nsearch ${podNamespace}.svc.${clusterDomain} svc.${clusterDomain} ${clusterDomain}\noptions ndots:5 attempts:1 timeout:1\n`
}
