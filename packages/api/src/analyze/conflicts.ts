import { ApiErrorCode } from '../errors.ts'
import type { Finding } from '../finding.ts'
import { identityOf } from './duplicates.ts'
import type { Entry, Inventory } from './inventory.ts'
import { strings } from './read.ts'

/**
 * Two or more VirtualServices for one host on the mesh gateway (warning): which one routes the
 * host's traffic is then ambiguous. Hosts are compared after short-name resolution, so `reviews`
 * in `default` and `reviews.default.svc.cluster.local` are the same host. The same VirtualService
 * given twice (one name) is reported as a duplicate instead: one replaces the other.
 */
export function checkConflictingVirtualServices(inv: Inventory): Finding[] {
  const byHost = new Map<string, { vs: Entry; host: string; index: number }[]>()
  for (const vs of inv.virtualServices) {
    if (!inv.appliesToMesh(vs)) continue
    const seen = new Set<string>()
    for (const [host, index] of strings(vs.spec.hosts)) {
      const fqdn = inv.resolve(host, vs)
      if (seen.has(fqdn)) continue
      seen.add(fqdn)
      byHost.set(fqdn, [...(byHost.get(fqdn) ?? []), { vs, host, index }])
    }
  }
  const out: Finding[] = []
  for (const [fqdn, claims] of byHost) {
    // The same VirtualService given twice is a duplicate (checked apart), not a conflict.
    if (new Set(claims.map((c) => identityOf(c.vs))).size < 2) continue
    for (const c of claims) {
      const others = claims
        .filter((o) => identityOf(o.vs) !== identityOf(c.vs))
        .map((o) => inv.describe(o.vs))
      const shown = fqdn === c.host ? `"${c.host}"` : `"${c.host}" (${fqdn})`
      out.push(
        inv.finding(
          c.vs,
          ['spec', 'hosts', c.index],
          'warning',
          ApiErrorCode.ConflictingVirtualServices,
          `host ${shown} also has ${others.join(', ')} for the mesh gateway; keep one VirtualService per host, or which one routes it is ambiguous`,
        ),
      )
    }
  }
  return out
}
