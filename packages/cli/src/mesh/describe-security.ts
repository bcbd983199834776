// The security part of `meshctl describe`: the mTLS a workload's sidecar takes and the
// AuthorizationPolicies that apply to it, resolved by the same functions the translator compiles
// them with (@minimesh/api workloadMtls, authorizationPoliciesFor), and what clients send to it.
import {
  type AuthorizationPolicy,
  authorizationPoliciesFor,
  type PeerAuthentication,
  workloadMtls,
} from '@minimesh/api'
import type { KubeObject } from '@minimesh/api/kube'

// biome-ignore lint/suspicious/noExplicitAny: resources read loosely, as users write them
type Any = any

const ref = (o: KubeObject) => `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`
const labelText = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',') || '<no labels>'

/** Oldest first (creationTimestamp, then namespace/name): the order Istio resolves policies in. */
function oldestFirst<T extends KubeObject>(objects: readonly T[]): T[] {
  const key = (o: T) =>
    `${String(o.metadata.creationTimestamp ?? '')}\u0000${o.metadata.namespace ?? ''}/${o.metadata.name}`
  return [...objects].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
}

/** `STRICT (PeerAuthentication default/default); port 9080 PERMISSIVE (PeerAuthentication default/reviews)` */
export function mtlsLine(
  peerAuthentications: readonly KubeObject[],
  namespace: string,
  labels: Record<string, string>,
): string {
  const pas = oldestFirst(peerAuthentications) as unknown as PeerAuthentication[]
  const m = workloadMtls(pas, namespace, labels)
  const decided = (level: 'workload' | 'namespace' | 'mesh') => {
    const p = m.from[level]
    const mode = p?.spec.mtls?.mode
    return p && mode && mode !== 'UNSET' ? p : undefined
  }
  const source = decided('workload') ?? decided('namespace') ?? decided('mesh')
  const why = source
    ? `PeerAuthentication ${ref(source as unknown as KubeObject)}${source === m.from.mesh ? ', mesh-wide' : source === m.from.namespace ? ', namespace-wide' : ''}`
    : 'the default: no PeerAuthentication sets a mode'
  const ports = [...m.ports.entries()].map(
    ([port, mode]) =>
      `; port ${port} ${mode} (PeerAuthentication ${ref(m.from.workload as unknown as KubeObject)})`,
  )
  return `${m.mode} (${why})${ports.join('')}`
}

/** What the sidecars of clients send to this host: a DestinationRule's tls mode, or automatic mTLS. */
export function clientTlsLine(rules: readonly KubeObject[]): string {
  const withTls = rules.filter((d) => (d.spec as Any)?.trafficPolicy?.tls?.mode)
  if (withTls.length === 0)
    return 'automatic: ISTIO_MUTUAL to endpoints with a sidecar, plaintext to the others (no DestinationRule sets tls)'
  return withTls
    .map((d) => `tls ${(d.spec as Any).trafficPolicy.tls.mode} (DestinationRule ${ref(d)})`)
    .join('; ')
}

const list = (name: string, v: unknown) =>
  Array.isArray(v) && v.length ? [`${name} ${v.map(String).join(', ')}`] : []

/** One rule of a policy: `from principals …; to methods GET, notPaths /internal*; when request.headers[x] notValues *`. */
function ruleText(r: Any): string {
  const from = (r.from ?? []).map((f: Any) =>
    Object.entries(f.source ?? {})
      .flatMap(([k, v]) => list(k, v))
      .join(', '),
  )
  const to = (r.to ?? []).map((t: Any) =>
    Object.entries(t.operation ?? {})
      .flatMap(([k, v]) => list(k, v))
      .join(', '),
  )
  const when = (r.when ?? []).map((c: Any) =>
    [c.key, ...list('values', c.values), ...list('notValues', c.notValues)].join(' '),
  )
  const parts = [
    ...(from.length ? [`from ${from.join(' or ')}`] : []),
    ...(to.length ? [`to ${to.join(' or ')}`] : []),
    ...(when.length ? [`when ${when.join(' and ')}`] : []),
  ]
  return parts.join('; ') || 'any request'
}

/**
 * The AuthorizationPolicies that apply to a workload, in Istio's evaluation order (DENY, then
 * ALLOW; AUDIT only logs), each with its rules and meshd's verdict, and what the result is.
 */
export function authorizationLines(
  policies: readonly KubeObject[],
  namespace: string,
  labels: Record<string, string>,
  status: (o: KubeObject) => string,
): string[] {
  const applying = authorizationPoliciesFor(
    oldestFirst(policies) as unknown as AuthorizationPolicy[],
    namespace,
    labels,
  ) as unknown as KubeObject[]
  if (applying.length === 0) return ['none: every request is allowed']
  const action = (p: KubeObject) => String((p.spec as Any)?.action ?? 'ALLOW')
  const order = ['DENY', 'ALLOW', 'AUDIT']
  const sorted = [...applying].sort((a, b) => order.indexOf(action(a)) - order.indexOf(action(b)))
  const lines = sorted.map((p) => {
    const rules: Any[] = (p.spec as Any)?.rules ?? []
    const what = rules.length
      ? rules.map(ruleText).join(' | ')
      : action(p) === 'ALLOW'
        ? 'no rules: matches no request'
        : 'no rules'
    return `${action(p)} ${ref(p)}: ${what} (${status(p)})`
  })
  const allows = sorted.some((p) => action(p) === 'ALLOW')
  const denies = sorted.some((p) => action(p) === 'DENY')
  lines.push(
    `=> ${denies ? 'denied when a DENY rule matches; ' : ''}${allows ? 'allowed only when an ALLOW rule matches' : 'otherwise allowed'}`,
  )
  return lines
}

/** The distinct workloads behind a service (its pods' label sets), or its selector when no pod is known. */
export function workloadsOf(svc: KubeObject, pods: readonly KubeObject[]): Record<string, string>[] {
  const ns = svc.metadata.namespace ?? 'default'
  const selector = ((svc.spec as Any)?.selector ?? {}) as Record<string, string>
  if (Object.keys(selector).length === 0) return []
  const seen = new Map<string, Record<string, string>>()
  for (const p of pods) {
    const labels = (p.metadata.labels ?? {}) as Record<string, string>
    if ((p.metadata.namespace ?? 'default') !== ns) continue
    if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) continue
    const { 'pod-template-hash': _hash, ...own } = labels
    seen.set(labelText(own), own)
  }
  return seen.size ? [...seen.values()] : [selector]
}

export { labelText }
