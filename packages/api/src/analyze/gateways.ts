import { ApiErrorCode } from '../errors.ts'
import type { Finding } from '../finding.ts'
import type { FieldPath } from '../schema/index.ts'
import type { Entry, Inventory } from './inventory.ts'
import { arr, rec, str, strings } from './read.ts'

/**
 * `<namespace>/<name>` of a Gateway reference: `ns/name`, a bare `name` (the VirtualService's own
 * namespace), or the older `name.ns.svc.cluster.local` form.
 */
export function gatewayKey(ref: string, namespace: string): string {
  if (ref.includes('/')) return ref
  const [name, ns] = ref.split('.')
  return ref.includes('.') ? `${ns}/${name}` : `${namespace}/${ref}`
}

/** A VirtualService naming a Gateway that is not among the inputs (warning). */
export function checkUnknownGateways(inv: Inventory): Finding[] {
  const known = new Set(inv.gateways.map((g) => `${g.namespace}/${g.name}`))
  const out: Finding[] = []
  const check = (vs: Entry, ref: string, path: FieldPath) => {
    if (ref === 'mesh') return
    const key = gatewayKey(ref, vs.namespace)
    if (known.has(key)) return
    out.push(
      inv.finding(
        vs,
        path,
        'warning',
        ApiErrorCode.UnknownGateway,
        `Gateway "${ref}" (${key}) is not among the inputs`,
      ),
    )
  }
  for (const vs of inv.virtualServices) {
    for (const [ref, i] of strings(vs.spec.gateways)) check(vs, ref, ['spec', 'gateways', i])
    arr(vs.spec.http).forEach((h, i) => {
      arr(rec(h)?.match).forEach((m, j) => {
        for (const [ref, k] of strings(rec(m)?.gateways))
          check(vs, ref, ['spec', 'http', i, 'match', j, 'gateways', k])
      })
    })
  }
  return out
}

/**
 * A Gateway server whose `tls.credentialName` names a Secret that is not among the inputs
 * (warning): the gateway leaves that server out until the Secret exists. The Secret belongs in the
 * namespace of the gateway's pods, which the inputs do not say, so any namespace counts.
 */
export function checkMissingCredentials(inv: Inventory): Finding[] {
  const out: Finding[] = []
  for (const gw of inv.gateways)
    arr(gw.spec.servers).forEach((s, i) => {
      const name = str(rec(rec(s)?.tls)?.credentialName)
      if (name === undefined || inv.secrets.has(name)) return
      out.push(
        inv.finding(
          gw,
          ['spec', 'servers', i, 'tls', 'credentialName'],
          'warning',
          ApiErrorCode.UnknownSecret,
          `Secret "${name}" is not among the inputs: the gateway leaves this server out until a Secret of that name exists in the namespace of its pods`,
        ),
      )
    })
  return out
}
