// Two diffs for golden files, written to be read by people: a unified diff of lines (git's format,
// three lines of context) and a structural diff of two JSON values (one entry a changed path, list
// elements named by their `name` or `clusterName`). Both are exact: from the old text or value and
// the diff, the new one follows, so a golden of a diff fails on any change.

/** The longest common subsequence of a and b as pairs of indices, after their common ends. */
function commonLines<T>(a: readonly T[], b: readonly T[], same: (x: T, y: T) => boolean): [number, number][] {
  let start = 0
  while (start < a.length && start < b.length && same(a[start]!, b[start]!)) start++
  let endA = a.length
  let endB = b.length
  while (endA > start && endB > start && same(a[endA - 1]!, b[endB - 1]!)) {
    endA--
    endB--
  }
  const pairs: [number, number][] = []
  for (let i = 0; i < start; i++) pairs.push([i, i])
  const n = endA - start
  const m = endB - start
  // Dynamic programming over the middle; past 16M cells, nothing in the middle is common.
  if (n > 0 && m > 0 && n * m <= 16_000_000) {
    const width = m + 1
    const len = new Uint32Array((n + 1) * width)
    for (let i = n - 1; i >= 0; i--)
      for (let j = m - 1; j >= 0; j--)
        len[i * width + j] = same(a[start + i]!, b[start + j]!)
          ? len[(i + 1) * width + j + 1]! + 1
          : Math.max(len[(i + 1) * width + j]!, len[i * width + j + 1]!)
    let i = 0
    let j = 0
    while (i < n && j < m) {
      if (same(a[start + i]!, b[start + j]!)) {
        pairs.push([start + i, start + j])
        i++
        j++
      } else if (len[(i + 1) * width + j]! >= len[i * width + j + 1]!) i++
      else j++
    }
  }
  for (let k = 0; k < a.length - endA; k++) pairs.push([endA + k, endB + k])
  return pairs
}

/** A unified diff of two texts (`--- expected`, `+++ actual`), or '' when they are equal. */
export function unifiedDiff(expected: string, actual: string, context = 3): string {
  if (expected === actual) return ''
  const lines = (t: string) => (t.endsWith('\n') ? t.slice(0, -1) : t).split('\n')
  const a = lines(expected)
  const b = lines(actual)
  type Op = { kind: ' ' | '-' | '+'; line: string; ai: number; bi: number }
  const ops: Op[] = []
  let i = 0
  let j = 0
  for (const [pi, pj] of [
    ...commonLines(a, b, (x, y) => x === y),
    [a.length, b.length] as [number, number],
  ]) {
    while (i < pi) ops.push({ kind: '-', line: a[i]!, ai: i++, bi: j })
    while (j < pj) ops.push({ kind: '+', line: b[j]!, ai: i, bi: j++ })
    if (pi < a.length) ops.push({ kind: ' ', line: a[pi]!, ai: i++, bi: j++ })
  }
  const changed = ops.flatMap((o, n) => (o.kind === ' ' ? [] : [n]))
  const out = ['--- expected (golden file)', '+++ actual']
  for (let c = 0; c < changed.length; ) {
    // One hunk: changes less than two contexts apart, with a context either side.
    let last = c
    while (last + 1 < changed.length && changed[last + 1]! - changed[last]! <= 2 * context) last++
    const hunk = ops.slice(
      Math.max(0, changed[c]! - context),
      Math.min(ops.length, changed[last]! + context + 1),
    )
    const oldLines = hunk.filter((o) => o.kind !== '+').length
    const newLines = hunk.filter((o) => o.kind !== '-').length
    out.push(`@@ -${hunk[0]!.ai + 1},${oldLines} +${hunk[0]!.bi + 1},${newLines} @@`)
    for (const o of hunk) out.push(`${o.kind}${o.line}`)
    c = last + 1
  }
  if (!changed.length) out.push('(only the newline at the end differs)')
  return `${out.join('\n')}\n`
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }

const KEYS = ['name', 'clusterName'] as const

function isObject(v: unknown): v is { [k: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** The field that names every element of both lists uniquely, if there is one. */
function keyOf(a: readonly Json[], b: readonly Json[]): string | undefined {
  return KEYS.find((k) => {
    for (const list of [a, b]) {
      const names = list.map((e) => (isObject(e) ? e[k] : undefined))
      if (!names.every((n) => typeof n === 'string') || new Set(names).size !== names.length) return false
    }
    return a.length + b.length > 0
  })
}

function show(v: Json | undefined, indent: string): string {
  const text = JSON.stringify(v, null, 2) ?? 'undefined'
  return text.includes('\n') ? text.replaceAll('\n', `\n${indent}`) : text
}

/**
 * What changes from `base` to `actual`, one entry a path: `+ path value` (added), `- path` (removed),
 * `~ path old → new` (changed), `order path [names]` (named elements reordered). List elements
 * are addressed as `[name=…]` where every element has a unique name, else by index.
 */
export function jsonDiff(base: unknown, actual: unknown): string {
  const out: string[] = []
  walk(base as Json, actual as Json, '', out)
  return out.length ? `${out.join('\n')}\n` : ''
}

function walk(a: Json | undefined, b: Json | undefined, path: string, out: string[]): void {
  if (JSON.stringify(a) === JSON.stringify(b)) return
  if (isObject(a) && isObject(b)) {
    for (const k of Object.keys(a)) {
      const p = `${path}.${k}`
      if (!(k in b)) out.push(`- ${p}`)
      else walk(a[k], b[k], p, out)
    }
    for (const k of Object.keys(b)) if (!(k in a)) out.push(`+ ${path}.${k} ${show(b[k], '  ')}`)
    return
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const key = keyOf(a, b)
    if (key) {
      const name = (e: Json) => (e as { [k: string]: string })[key]!
      const before = new Map(a.map((e) => [name(e), e]))
      const after = new Map(b.map((e, i) => [name(e), [e, i] as const]))
      for (const [n] of before) if (!after.has(n)) out.push(`- ${path}[${key}=${n}]`)
      for (const [n, [e, i]] of after) {
        const p = `${path}[${key}=${n}]`
        if (!before.has(n)) out.push(`+ ${p} (at ${i}) ${show(e, '  ')}`)
        else walk(before.get(n), e, p, out)
      }
      const kept = (list: Json[], other: Map<string, unknown>) => list.map(name).filter((n) => other.has(n))
      if (kept(a, after).join('\n') !== kept(b, before).join('\n'))
        out.push(`order ${path} ${JSON.stringify(kept(b, before))}`)
      return
    }
    if (a.length === b.length && a.every((e, i) => isObject(e) && isObject(b[i]))) {
      for (const [i, e] of a.entries()) walk(e, b[i], `${path}[${i}]`, out)
      return
    }
    // Elements without names: removed and added ones by position (old index, then new index).
    const same = commonLines(
      a.map((e) => JSON.stringify(e)),
      b.map((e) => JSON.stringify(e)),
      (x, y) => x === y,
    )
    const keptA = new Set(same.map(([i]) => i))
    const keptB = new Set(same.map(([, j]) => j))
    for (const [i, e] of a.entries()) if (!keptA.has(i)) out.push(`- ${path}[${i}] ${show(e, '  ')}`)
    for (const [j, e] of b.entries()) if (!keptB.has(j)) out.push(`+ ${path}[${j}] ${show(e, '  ')}`)
    return
  }
  if (a === undefined) out.push(`+ ${path} ${show(b, '  ')}`)
  else if (b === undefined) out.push(`- ${path}`)
  else out.push(`~ ${path} ${show(a, '  ')} → ${show(b, '  ')}`)
}
