import { ApiErrorCode } from '../errors.ts'
import type { Finding } from '../finding.ts'
import { ExpressionError, parseExpression, type Term } from '../quota/expression.ts'
import { serviceOfHost } from './hosts.ts'
import type { Entry, Inventory, ServiceInfo } from './inventory.ts'
import { arr, rec, stringMap, strings } from './read.ts'

/** Values a dimension can take, or `any` when the inputs cannot tell. */
type Values = Set<string> | 'any'

/** What the policy's `hosts` say about the destination of a request it applies to. */
interface Destinations {
  /** Short Service names, when every host is a Service name. */
  names?: string[]
  /** A policy applies only to Services of its own namespace. */
  namespaces: string[]
  /** The Services among the inputs, when every host has one. */
  services?: ServiceInfo[]
}

/** Hosts of a policy as Services: `outside` are in another namespace (the policy never applies to them). */
function policyHosts(inv: Inventory, qp: Entry) {
  return strings(qp.spec.hosts).map(([host, index]) => {
    const svc = serviceOfHost(inv.resolve(host, qp), inv.suffix)
    return { host, index, svc, outside: svc !== undefined && svc.namespace !== qp.namespace }
  })
}

function destinationsOf(inv: Inventory, qp: Entry): Destinations {
  const hosts = policyHosts(inv, qp).filter((h) => !h.outside)
  const d: Destinations = { namespaces: [qp.namespace] }
  if (hosts.length === 0 || hosts.some((h) => h.svc === undefined)) return d // every service, or a wildcard
  const svcs = hosts.map((h) => inv.serviceByFqdn(`${h.svc!.name}.${qp.namespace}.svc.${inv.suffix}`))
  d.names = hosts.map((h) => h.svc!.name)
  if (svcs.every((s) => s !== undefined)) d.services = svcs as ServiceInfo[]
  return d
}

/** The values one term can give and whether it is always present (so later terms never apply). */
function termValues(t: Term, d: Destinations): { values: Values; always: boolean } {
  const known = (xs: string[] | undefined) =>
    xs ? { values: new Set(xs), always: true } : { values: 'any' as const, always: false }
  if (t.kind === 'literal') return { values: new Set([t.value]), always: true }
  if (t.name === 'destination.service') return known(d.names)
  if (t.name === 'destination.namespace') return known(d.namespaces)
  if (t.name === 'destination.labels' && d.services && t.key !== undefined) {
    // Pods behind a Service carry its selector's labels, so those labels are always present.
    const key = t.key
    const vals = d.services.map((s) => s.selector[key])
    if (vals.every((v) => v !== undefined && v !== '')) return known(vals as string[])
  }
  return { values: 'any', always: false }
}

/** Every value a dimension expression can evaluate to for requests the policy applies to. */
function possibleValues(terms: readonly Term[], d: Destinations): Values {
  const out = new Set<string>()
  for (const t of terms) {
    const r = termValues(t, d)
    if (r.values === 'any') return 'any'
    for (const v of r.values) out.add(v)
    if (r.always) return out
  }
  out.add('') // no term present: the proxy uses the empty string
  return out
}

function parse(text: string): Term[] | undefined {
  try {
    return parseExpression(text)
  } catch (err) {
    if (err instanceof ExpressionError) return undefined // reported by validation
    throw err
  }
}

/**
 * QuotaPolicy overrides that can never match: a dimension the policy does not define (error); a
 * value the dimension cannot take for the policy's hosts (warning: inferred from `hosts` and the
 * selectors of the Services among the inputs); an override shadowed by an earlier one whose
 * dimensions are the same or a subset of its own (error: overrides are tried in order and the
 * first that matches wins). Also a host in another namespace than the policy's (warning: a policy
 * applies only to Services of its own namespace).
 */
export function checkUnreachableOverrides(inv: Inventory): Finding[] {
  const out: Finding[] = []
  for (const qp of inv.quotaPolicies) {
    for (const h of policyHosts(inv, qp))
      if (h.outside)
        out.push(
          inv.finding(
            qp,
            ['spec', 'hosts', h.index],
            'warning',
            ApiErrorCode.QuotaHostNamespace,
            `host "${h.host}" is in namespace ${h.svc!.namespace}, but a QuotaPolicy applies only to Services of its own namespace (${qp.namespace}): it never limits this host`,
          ),
        )
    const exprs = stringMap(qp.spec.dimensions)
    const names = Object.keys(exprs)
    const dest = destinationsOf(inv, qp)
    const reachable: { index: number; dims: Record<string, string> }[] = []
    arr(qp.spec.overrides).forEach((o, i) => {
      const dims = stringMap(rec(o)?.dimensions)
      const base = ['spec', 'overrides', i]
      let dead = false
      for (const [key, value] of Object.entries(dims)) {
        const path = [...base, 'dimensions', key]
        if (!(key in exprs)) {
          dead = true
          out.push(
            inv.finding(
              qp,
              path,
              'error',
              ApiErrorCode.UnreachableOverride,
              `dimension "${key}" is not one of the policy's dimensions (${names.join(', ') || 'none'}): this override can never match`,
            ),
          )
          continue
        }
        const terms = parse(exprs[key]!)
        const values = terms ? possibleValues(terms, dest) : 'any'
        if (values === 'any' || values.has(value)) continue
        dead = true
        const hosts = strings(qp.spec.hosts).map(([h]) => h)
        const given = hosts.length ? `hosts ${hosts.join(', ')}` : `namespace ${qp.namespace}`
        out.push(
          inv.finding(
            qp,
            path,
            'warning',
            ApiErrorCode.UnreachableOverride,
            `"${value}" is impossible for dimension "${key}" (${exprs[key]}) given ${given}: it can only be ${[...values].map((v) => JSON.stringify(v)).join(' or ')}, so this override can never match`,
          ),
        )
      }
      if (dead) return
      const shadow = reachable.find((r) => Object.entries(r.dims).every(([k, v]) => dims[k] === v))
      if (shadow) {
        out.push(
          inv.finding(
            qp,
            base,
            'error',
            ApiErrorCode.UnreachableOverride,
            `shadowed by overrides[${shadow.index}] (${JSON.stringify(shadow.dims)}), which matches every request this one does; overrides are tried in order and the first match wins`,
          ),
        )
        return
      }
      reachable.push({ index: i, dims })
    })
  }
  return out
}
