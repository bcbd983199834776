import { isIP } from 'node:net'
import { ApiErrorCode } from '../errors.ts'
import type { Finding } from '../finding.ts'
import type { FieldPath } from '../schema/index.ts'
import { hostMatches } from './hosts.ts'
import type { Entry, Inventory } from './inventory.ts'
import { destinationsOf, str, strings } from './read.ts'

/**
 * A host that matches no Service among the inputs (warning): route and mirror destinations,
 * VirtualService hosts for the mesh, DestinationRule hosts and QuotaPolicy hosts. Hosts of a
 * VirtualService bound only to Gateways are what clients send to the gateway, not Services.
 */
export function checkUnknownHosts(inv: Inventory): Finding[] {
  const out: Finding[] = []
  const check = (entry: Entry, host: string, path: FieldPath) => {
    if (host === '*') return
    const fqdn = inv.resolve(host, entry)
    const known = fqdn.startsWith('*')
      ? inv.services.some((s) => hostMatches(fqdn, s.fqdn))
      : inv.serviceByFqdn(fqdn) !== undefined ||
        (isIP(host) && inv.services.some((s) => s.clusterIP === host))
    if (known) return
    const shown = fqdn === host ? `"${host}"` : `"${host}" (${fqdn})`
    let hint = ''
    const longer = `${host}.svc.${inv.suffix}`
    if (fqdn === host && inv.serviceByFqdn(longer))
      hint = `; a name with dots is taken as fully qualified: did you mean "${longer}"?`
    out.push(
      inv.finding(
        entry,
        path,
        'warning',
        ApiErrorCode.UnknownHost,
        `host ${shown} matches no Service among the inputs${hint}`,
      ),
    )
  }
  for (const vs of inv.virtualServices) {
    if (inv.appliesToMesh(vs))
      for (const [host, i] of strings(vs.spec.hosts)) check(vs, host, ['spec', 'hosts', i])
    for (const d of destinationsOf(vs.spec)) check(vs, d.host, [...d.path, 'host'])
  }
  for (const dr of inv.destinationRules) {
    const host = str(dr.spec.host)
    if (host) check(dr, host, ['spec', 'host'])
  }
  for (const qp of inv.quotaPolicies)
    for (const [host, i] of strings(qp.spec.hosts)) check(qp, host, ['spec', 'hosts', i])
  return out
}
