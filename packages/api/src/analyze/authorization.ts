import { ApiErrorCode } from '../errors.ts'
import type { Finding } from '../finding.ts'
import type { Inventory } from './inventory.ts'
import { rec, stringMap } from './read.ts'

/** Istio's root namespace in minimesh: policies there apply to every namespace of the mesh. */
export const MESH_ROOT_NAMESPACE = 'minimesh-system'

/**
 * An AuthorizationPolicy whose selector selects no workload among the inputs (warning: it has no
 * effect). A policy in the root namespace (`minimesh-system`) applies mesh-wide, so its selector
 * is matched against workloads of every namespace. Only when workloads (Pods, or Deployments and
 * other controllers' pod templates) are among the inputs: without any, nothing can be told.
 */
export function checkAuthorizationSelectors(inv: Inventory): Finding[] {
  if (inv.workloads.length === 0) return []
  const out: Finding[] = []
  for (const ap of inv.authorizationPolicies) {
    const selector = rec(ap.spec.selector)
    const match = stringMap(selector?.matchLabels)
    const meshWide = ap.namespace === MESH_ROOT_NAMESPACE
    const candidates = inv.workloads.filter((w) => meshWide || w.entry.namespace === ap.namespace)
    const selected = candidates.some((w) => Object.entries(match).every(([k, v]) => w.labels[k] === v))
    if (selected) continue
    const where = meshWide ? 'any namespace' : `namespace ${ap.namespace}`
    const what = Object.keys(match).length
      ? `selector ${Object.entries(match)
          .map(([k, v]) => `${k}=${v}`)
          .join(',')} matches no workload in ${where}`
      : `there is no workload in ${where}`
    out.push(
      inv.finding(
        ap,
        selector ? ['spec', 'selector'] : ['metadata', 'namespace'],
        'warning',
        ApiErrorCode.NoMatchingWorkload,
        `${what} among the inputs: this AuthorizationPolicy applies to nothing`,
      ),
    )
  }
  return out
}
