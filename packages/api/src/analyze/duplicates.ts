import { ApiErrorCode } from '../errors.ts'
import type { Finding } from '../finding.ts'
import type { Entry, Inventory } from './inventory.ts'

/** API group, kind, namespace and name: what makes two objects the same object in a cluster. */
export function identityOf(entry: Entry): string {
  const apiVersion = typeof entry.src.object.apiVersion === 'string' ? entry.src.object.apiVersion : ''
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : ''
  return `${group}|${entry.kind}|${entry.namespace}|${entry.name}`
}

/**
 * The same object (group, kind, namespace, name) given more than once (warning): applied in order,
 * each replaces the one before, so only the last takes effect.
 */
export function checkDuplicateResources(inv: Inventory): Finding[] {
  const first = new Map<string, Entry>()
  const out: Finding[] = []
  for (const e of inv.entries) {
    if (!e.kind || !e.name) continue
    const id = identityOf(e)
    const prev = first.get(id)
    if (!prev) {
      first.set(id, e)
      continue
    }
    out.push(
      inv.finding(
        e,
        ['metadata', 'name'],
        'warning',
        ApiErrorCode.Duplicate,
        `${e.kind} ${e.namespace}/${e.name} is also defined ${inv.where(prev) ? `at ${inv.where(prev)}` : 'earlier in the inputs'}: applied in order, the later one replaces the earlier`,
      ),
    )
  }
  return out
}
