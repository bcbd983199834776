// Label selectors evaluated as the API server does (matchLabels and matchExpressions are ANDed;
// an empty selector matches everything).
import type { LabelSelector, Labels } from '@minimesh/api/kube'

export function matchesSelector(
  selector: LabelSelector | undefined | null,
  labels: Labels | undefined,
): boolean {
  if (!selector) return true
  const l = labels ?? {}
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(l, e.key)
    const values = e.values ?? []
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(l[e.key]!)) return false
        break
      case 'NotIn':
        if (has && values.includes(l[e.key]!)) return false
        break
      case 'Exists':
        if (!has) return false
        break
      case 'DoesNotExist':
        if (has) return false
        break
      default:
        // An operator the API server would have refused: matches nothing (fail closed).
        return false
    }
  }
  return true
}

/** A Service's plain map selector: every pair must match; an empty or absent map selects nothing. */
export function matchesServiceSelector(selector: Labels | undefined, labels: Labels | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v)
}

/** Parses `app=foo,version!=v1,tier in (a,b),!gone,present` (the kubectl -l syntax, a useful subset). */
export function parseSelector(text: string): LabelSelector {
  const sel: Required<LabelSelector> = { matchLabels: {}, matchExpressions: [] }
  const parts = text.match(/[^,(]+(\([^)]*\))?/g) ?? []
  for (const raw of parts.map((p) => p.trim()).filter(Boolean)) {
    const set = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(raw)
    const notEq = /^([^\s!=]+)\s*!=\s*(\S*)$/.exec(raw)
    const eq = /^([^\s!=]+)\s*==?\s*(\S*)$/.exec(raw)
    const absent = /^!([^\s!=]+)$/.exec(raw)
    if (set) {
      sel.matchExpressions.push({
        key: set[1]!,
        operator: set[2] === 'in' ? 'In' : 'NotIn',
        values: set[3]!.split(',').map((v) => v.trim()),
      })
    } else if (notEq) sel.matchExpressions.push({ key: notEq[1]!, operator: 'NotIn', values: [notEq[2]!] })
    else if (eq) sel.matchLabels[eq[1]!] = eq[2]!
    else if (absent) sel.matchExpressions.push({ key: absent[1]!, operator: 'DoesNotExist' })
    else sel.matchExpressions.push({ key: raw, operator: 'Exists' })
  }
  return sel
}
