import { ApiErrorCode } from '../errors.ts'
import type { Finding } from '../finding.ts'
import type { FieldPath } from '../schema/index.ts'
import type { Entry, Inventory } from './inventory.ts'
import { arr, rec, str, stringMap } from './read.ts'

/** Istio's root namespace for minimesh: policies there without a selector apply mesh-wide. */
const MESH_ROOT_NAMESPACE = 'minimesh-system'

const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v)

const selectorOf = (pa: Entry) => stringMap(rec(pa.spec.selector)?.matchLabels)
const modeOf = (pa: Entry) => str(rec(pa.spec.mtls)?.mode) ?? 'UNSET'

/**
 * PeerAuthentications that select nothing (warnings): a selector matching no Pod or pod template
 * among the inputs (checked only when the inputs hold workloads at all), and a selector in the
 * root namespace, which Istio ignores.
 */
export function checkPeerAuthentications(inv: Inventory): Finding[] {
  const out: Finding[] = []
  for (const pa of inv.peerAuthentications) {
    const selector = selectorOf(pa)
    if (Object.keys(selector).length === 0) continue
    if (pa.namespace === MESH_ROOT_NAMESPACE) {
      out.push(
        inv.finding(
          pa,
          ['spec', 'selector'],
          'warning',
          ApiErrorCode.NoMatchingWorkload,
          `a PeerAuthentication with a selector in the root namespace ${MESH_ROOT_NAMESPACE} is ignored (as in Istio): put it in the workload's namespace`,
        ),
      )
      continue
    }
    if (inv.workloads.length === 0) continue
    if (inv.workloads.some((w) => w.entry.namespace === pa.namespace && selects(selector, w.labels))) continue
    out.push(
      inv.finding(
        pa,
        ['spec', 'selector', 'matchLabels'],
        'warning',
        ApiErrorCode.NoMatchingWorkload,
        `selector ${JSON.stringify(selector)} matches no workload in namespace ${pa.namespace} among the inputs`,
      ),
    )
  }
  return out
}

/** The STRICT PeerAuthentication that covers the pods a Service selects, if any (oldest-first order ignored: cheap check). */
function strictFor(inv: Inventory, ns: string, selector: Record<string, string>): Entry | undefined {
  const inNs = inv.peerAuthentications.filter((p) => p.namespace === ns)
  const workload = inNs.find((p) => {
    const s = selectorOf(p)
    return Object.keys(s).length > 0 && Object.keys(selector).length > 0 && selects(s, selector)
  })
  if (workload && modeOf(workload) !== 'UNSET') return modeOf(workload) === 'STRICT' ? workload : undefined
  const nsWide = inNs.find((p) => Object.keys(selectorOf(p)).length === 0 && modeOf(p) !== 'UNSET')
  if (nsWide) return modeOf(nsWide) === 'STRICT' ? nsWide : undefined
  const mesh = inv.peerAuthentications.find(
    (p) => p.namespace === MESH_ROOT_NAMESPACE && Object.keys(selectorOf(p)).length === 0,
  )
  return mesh && modeOf(mesh) === 'STRICT' ? mesh : undefined
}

/**
 * A DestinationRule whose tls mode is DISABLE for a Service whose workloads require mTLS
 * (PeerAuthentication STRICT): the sidecars refuse those plaintext connections (warning).
 */
export function checkMtlsConflicts(inv: Inventory): Finding[] {
  const out: Finding[] = []
  for (const dr of inv.destinationRules) {
    const host = str(dr.spec.host)
    if (!host) continue
    const svc = inv.serviceByFqdn(inv.resolve(host, dr))
    if (!svc) continue
    const strict = strictFor(inv, svc.entry.namespace, svc.selector)
    if (!strict) continue
    const policies: [unknown, FieldPath][] = [[dr.spec.trafficPolicy, ['spec', 'trafficPolicy']]]
    arr(rec(dr.spec.trafficPolicy)?.portLevelSettings).forEach((p, i) => {
      policies.push([p, ['spec', 'trafficPolicy', 'portLevelSettings', i]])
    })
    arr(dr.spec.subsets).forEach((s, i) => {
      policies.push([rec(s)?.trafficPolicy, ['spec', 'subsets', i, 'trafficPolicy']])
    })
    for (const [policy, path] of policies) {
      if (str(rec(rec(policy)?.tls)?.mode) !== 'DISABLE') continue
      out.push(
        inv.finding(
          dr,
          [...path, 'tls', 'mode'],
          'warning',
          ApiErrorCode.MtlsConflict,
          `tls mode DISABLE sends plaintext to ${svc.fqdn}, whose workloads require mTLS (${inv.describe(strict)} is STRICT): those connections will be refused`,
        ),
      )
    }
  }
  return out
}
