import { ApiErrorCode } from '../errors.ts'
import type { Finding } from '../finding.ts'
import { hostMatches } from './hosts.ts'
import type { Entry, Inventory } from './inventory.ts'
import { arr, destinationsOf, rec, str } from './read.ts'

interface RuleSubsets {
  rule: Entry
  host: string
  subsets: string[]
}

/**
 * A route (or mirror) to a subset that no DestinationRule for its host defines (error). The rules
 * for a host are those naming it exactly; only when there are none, wildcard rules that cover it.
 */
export function checkUnknownSubsets(inv: Inventory): Finding[] {
  const rules: RuleSubsets[] = inv.destinationRules.flatMap((rule) => {
    const host = str(rule.spec.host)
    if (!host) return []
    const subsets = arr(rule.spec.subsets).flatMap((s) => {
      const name = str(rec(s)?.name)
      return name ? [name] : []
    })
    return [{ rule, host: inv.resolve(host, rule), subsets }]
  })
  const out: Finding[] = []
  for (const vs of inv.virtualServices) {
    for (const d of destinationsOf(vs.spec)) {
      if (d.subset === undefined) continue
      const fqdn = inv.resolve(d.host, vs)
      const exact = rules.filter((r) => r.host === fqdn)
      const applicable = exact.length ? exact : rules.filter((r) => hostMatches(r.host, fqdn))
      if (applicable.some((r) => r.subsets.includes(d.subset!))) continue
      const path = [...d.path, 'subset']
      const message = applicable.length
        ? `subset "${d.subset}" is not defined by ${applicable
            .map((r) => `${inv.describe(r.rule)}, which defines ${r.subsets.join(', ') || 'no subsets'}`)
            .join('; ')}`
        : `subset "${d.subset}" of host "${d.host}" is not defined: no DestinationRule for ${fqdn} among the inputs`
      out.push(inv.finding(vs, path, 'error', ApiErrorCode.UnknownSubset, message))
    }
  }
  return out
}
