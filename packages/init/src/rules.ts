// The pure core: CaptureOptions → iptables-restore input for the nat table, with the policy of
// Istio's istio-iptables (REDIRECT mode). Every rule carries `-m comment --comment "minimesh/<purpose>"`
// so that `mesh-init clean` can find exactly what it added.
import { isIPv4 } from 'node:net'
import { ALWAYS_EXCLUDED_INBOUND_PORTS, type CaptureOptions } from './options.ts'

export type IpFamily = 4 | 6

/** The chains mesh-init owns in the nat table. */
export const CHAINS = {
  inbound: 'MESH_INBOUND',
  inRedirect: 'MESH_IN_REDIRECT',
  output: 'MESH_OUTPUT',
  redirect: 'MESH_REDIRECT',
} as const

export const OWNED_CHAINS: readonly string[] = Object.values(CHAINS)

/** Why each rule exists; the comment on the rule is `minimesh/<purpose>`. */
export const PURPOSES = {
  inboundJump: 'inbound',
  outboundJump: 'outbound',
  inboundRedirect: 'inbound-redirect',
  outboundRedirect: 'outbound-redirect',
  inboundExcludePort: 'inbound-exclude-port',
  inboundCapturePort: 'inbound-capture-port',
  inboundCaptureAll: 'inbound-capture-all',
  outboundExcludePort: 'outbound-exclude-port',
  inboundPassthrough: 'inbound-passthrough',
  proxyToOwnPodUid: 'proxy-to-own-pod-uid',
  appLoopbackUid: 'app-loopback-uid',
  proxyUid: 'proxy-uid',
  proxyToOwnPodGid: 'proxy-to-own-pod-gid',
  appLoopbackGid: 'app-loopback-gid',
  proxyGid: 'proxy-gid',
  localhost: 'localhost',
  outboundExcludeCidr: 'outbound-exclude-cidr',
  outboundIncludePort: 'outbound-include-port',
  outboundIncludeCidr: 'outbound-include-cidr',
  outboundCaptureAll: 'outbound-capture-all',
} as const

export const COMMENT_PREFIX = 'minimesh/'

/** Every comment mesh-init ever writes; `clean` removes a rule outside its own chains only if it has one of these. */
export const OWNED_COMMENTS: ReadonlySet<string> = new Set(
  Object.values(PURPOSES).map((p) => COMMENT_PREFIX + p),
)

/** Per family: the host's loopback address, and the source the proxy binds for inbound passthrough. */
const ADDRESSES = {
  4: { loopback: '127.0.0.1/32', passthroughSource: '127.0.0.6/32' },
  6: { loopback: '::1/128', passthroughSource: '::6/128' },
} as const

function familyOf(cidr: string): IpFamily {
  return isIPv4(cidr.split('/')[0] ?? '') ? 4 : 6
}

function isLoopbackCidr(cidr: string): boolean {
  const address = cidr.split('/')[0] ?? ''
  return address.startsWith('127.') || address === '::1'
}

class RuleList {
  readonly lines: string[] = []
  add(chain: string, matches: string, purpose: string, target: string): void {
    const match = matches === '' ? '' : `${matches} `
    this.lines.push(`-A ${chain} ${match}-m comment --comment "${COMMENT_PREFIX}${purpose}" -j ${target}`)
  }
}

/**
 * iptables-restore input (`*nat … COMMIT`) that captures the pod's TCP traffic: outbound to
 * `proxyPort`, inbound to `inboundCapturePort`, never the proxy's own uid/gid. `family` picks the
 * addresses (iptables-restore for 4, ip6tables-restore for 6); CIDRs of the other family are left out.
 */
export function buildRules(options: CaptureOptions, family: IpFamily = 4): string {
  const { inbound, inRedirect, output, redirect } = CHAINS
  const P = PURPOSES
  const addr = ADDRESSES[family]
  const r = new RuleList()

  // The two terminal chains: everything that reaches them is redirected to the proxy.
  r.add(redirect, '-p tcp', P.outboundRedirect, `REDIRECT --to-ports ${options.proxyPort}`)
  r.add(inRedirect, '-p tcp', P.inboundRedirect, `REDIRECT --to-ports ${options.inboundCapturePort}`)

  // Inbound: PREROUTING → MESH_INBOUND. With '*', excluded ports return first and the rest is
  // captured; with a list, only those ports are captured (exclusions do not apply, as in Istio).
  const inboundPorts = options.inboundPorts
  if (inboundPorts === '*' || inboundPorts.length > 0) {
    r.add('PREROUTING', '-p tcp', P.inboundJump, inbound)
    if (inboundPorts === '*') {
      const excluded = [...new Set([...options.inboundPortsExclude, ...ALWAYS_EXCLUDED_INBOUND_PORTS])]
      for (const port of excluded) r.add(inbound, `-p tcp --dport ${port}`, P.inboundExcludePort, 'RETURN')
      r.add(inbound, '-p tcp', P.inboundCaptureAll, inRedirect)
    } else {
      for (const port of inboundPorts)
        r.add(inbound, `-p tcp --dport ${port}`, P.inboundCapturePort, inRedirect)
    }
  }

  // Outbound: OUTPUT → MESH_OUTPUT.
  r.add('OUTPUT', '-p tcp', P.outboundJump, output)
  for (const port of options.outboundPortsExclude) {
    r.add(output, `-p tcp --dport ${port}`, P.outboundExcludePort, 'RETURN')
  }
  // The proxy's inbound passthrough connects to the app from 127.0.0.6 (::6): never capture it.
  r.add(output, `-s ${addr.passthroughSource} -o lo`, P.inboundPassthrough, 'RETURN')

  const cidrs = options.outboundCidrs
  const includesLoopback = cidrs !== '*' && cidrs.some(isLoopbackCidr)
  const owners = [
    {
      flag: '--uid-owner',
      ids: options.proxyUids,
      self: P.proxyToOwnPodUid,
      app: P.appLoopbackUid,
      proxy: P.proxyUid,
    },
    {
      flag: '--gid-owner',
      ids: options.proxyGids,
      self: P.proxyToOwnPodGid,
      app: P.appLoopbackGid,
      proxy: P.proxyGid,
    },
  ]
  for (const owner of owners) {
    for (const id of owner.ids) {
      // The proxy calling its own pod (a service VIP that resolved to this pod, sent over lo):
      // capture it again as inbound, so the server-side proxy sees it (app → proxy → proxy → app).
      r.add(output, `-o lo ! -d ${addr.loopback} -m owner ${owner.flag} ${id}`, owner.self, inRedirect)
      // The app calling itself over lo (by pod IP): not captured, unless -i names loopback.
      if (!includesLoopback) r.add(output, `-o lo -m owner ! ${owner.flag} ${id}`, owner.app, 'RETURN')
      // Anything else the proxy sends leaves untouched: no loops.
      r.add(output, `-m owner ${owner.flag} ${id}`, owner.proxy, 'RETURN')
    }
  }
  // Apps that talk to localhost on purpose (sidecar-aware apps, container to container).
  r.add(output, `-d ${addr.loopback}`, P.localhost, 'RETURN')
  for (const cidr of options.outboundCidrsExclude) {
    if (familyOf(cidr) === family) r.add(output, `-d ${cidr}`, P.outboundExcludeCidr, 'RETURN')
  }
  for (const port of options.outboundPortsInclude) {
    r.add(output, `-p tcp --dport ${port}`, P.outboundIncludePort, redirect)
  }
  if (cidrs === '*') {
    r.add(output, '', P.outboundCaptureAll, redirect)
  } else {
    for (const cidr of cidrs) {
      if (familyOf(cidr) === family) r.add(output, `-d ${cidr}`, P.outboundIncludeCidr, redirect)
    }
  }

  const declarations = OWNED_CHAINS.map((chain) => `:${chain} - [0:0]`)
  return ['*nat', ...declarations, ...r.lines, 'COMMIT', ''].join('\n')
}
