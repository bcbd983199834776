import type { Authorization, Cluster, FilterChain, QuotaRule } from '@minimesh/api'
import { isHttp } from '../registry/protocol.ts'
import { resolveTargetPort, type Service } from '../registry/registry.ts'
import { authorizationFor } from './authorization.ts'
import { inboundCluster } from './cds.ts'
import { type PushContext, selects } from './context.ts'
import { inboundClusterName, wildcardListenerName } from './names.ts'
import { type EffectiveMtlsMode, portMtls, workloadMtls } from './peer-authentication.ts'
import type { ProxyInfo } from './proxy.ts'
import { quotaRule } from './quota.ts'

/** The services of the proxy's namespace whose selector matches its pod's labels (memoized per label set). */
export function servicesSelecting(ctx: PushContext, proxy: ProxyInfo): readonly Service[] {
  if (Object.keys(proxy.labels).length === 0) return []
  const labelsKey = JSON.stringify(Object.entries(proxy.labels).sort())
  return ctx.memo(`selecting/${proxy.namespace}/${labelsKey}`, () => {
    // Only services whose selector has one of the pod's labels can select it.
    const candidates = new Set<Service>()
    for (const [k, v] of Object.entries(proxy.labels))
      for (const s of ctx.servicesSelectingLabel(proxy.namespace, k, v)) candidates.add(s)
    return [...candidates]
      .filter((s) => selects(s.selector, proxy.labels))
      .sort((a, b) => (a.hostname < b.hostname ? -1 : 1))
  })
}

/**
 * Inbound configuration of a sidecar: for every container port a selecting service sends to, an
 * `inbound|<port>||` cluster (the app at 127.0.0.1) and a virtualInbound filter chain for that
 * destination port carrying the QuotaPolicies of those services, the workload's
 * AuthorizationPolicies (also for the passthrough chain, to ports no service declares) and the
 * port's mTLS mode (PeerAuthentication); `mtls` is the workload-level mode, for the passthrough chain.
 */
export function inboundConfig(
  ctx: PushContext,
  proxy: ProxyInfo,
): {
  clusters: Cluster[]
  chains: FilterChain[]
  authorization: Authorization | undefined
  mtls: EffectiveMtlsMode
} {
  const peerAuth = workloadMtls(ctx, proxy.namespace, proxy.labels)
  const byPort = new Map<number, { cluster: Cluster; http: boolean; quotas: Map<string, QuotaRule> }>()
  for (const service of servicesSelecting(ctx, proxy)) {
    for (const port of service.ports) {
      const target = resolveTargetPort(ctx.snapshot.registry, service, port, {
        name: proxy.podName,
        namespace: proxy.namespace,
        ip: proxy.ip,
      })
      if (target === undefined) continue
      let entry = byPort.get(target)
      if (!entry) {
        entry = {
          cluster: inboundCluster(target, port.protocol, service, port),
          http: isHttp(port.protocol),
          quotas: new Map(),
        }
        byPort.set(target, entry)
      }
      for (const qp of ctx.quotaPoliciesFor(service)) {
        const rule = quotaRule(qp)
        entry.quotas.set(rule.name, rule)
      }
    }
  }
  const ports = [...byPort.keys()].sort((a, b) => a - b)
  const authorization = authorizationFor(ctx, proxy)
  return {
    authorization,
    mtls: peerAuth.mode,
    clusters: ports.map((p) => byPort.get(p)!.cluster),
    chains: ports.map((p) => {
      const e = byPort.get(p)!
      const cluster = inboundClusterName(p)
      const quotas = [...e.quotas.values()].sort((a, b) => (a.name < b.name ? -1 : 1))
      return {
        name: wildcardListenerName(p),
        match: { destinationPort: p },
        ...(e.http ? { http: { cluster } } : { tcp: { cluster } }),
        ...(quotas.length ? { quotas } : {}),
        ...(authorization ? { authorization } : {}),
        mtls: { mode: portMtls(peerAuth, p) },
      }
    }),
  }
}
