// RFC 6902 JSON Patch between two JSON values: what the webhook returns to the API server so it
// turns the pod it has into the pod inject() made. Objects are compared key by key; arrays index
// by index over their common length, then the tail is added or removed (injection appends, and
// edits in place, so this gives short patches for it and correct ones for anything). An array
// that only gained items somewhere in the middle or at the front (a native sidecar goes first in
// initContainers, a held classic proxy first in containers) gets `add` at those indices.

export type PatchOperation =
  | { op: 'add'; path: string; value: unknown }
  | { op: 'replace'; path: string; value: unknown }
  | { op: 'remove'; path: string }

/** One JSON Pointer reference token (RFC 6901): `~` → `~0`, `/` → `~1`. */
export function escapePointerToken(token: string): string {
  if (!token.includes('~') && !token.includes('/')) return token
  return token.replaceAll('~', '~0').replaceAll('/', '~1')
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

const same = (x: unknown, y: unknown) => x === y || JSON.stringify(x) === JSON.stringify(y)

/** For b = a with items inserted in one place: where, else -1. */
function insertionAt(a: unknown[], b: unknown[]): number {
  if (b.length <= a.length) return -1
  let head = 0
  while (head < a.length && same(a[head], b[head])) head++
  const k = b.length - a.length
  for (let i = head; i < a.length; i++) if (!same(a[i], b[i + k])) return -1
  return head < a.length ? head : -1
}

function walk(a: unknown, b: unknown, path: string, ops: PatchOperation[]): void {
  if (a === b) return
  if (Array.isArray(a) && Array.isArray(b)) {
    const at = insertionAt(a, b)
    if (at >= 0) {
      for (let i = at; i < at + b.length - a.length; i++)
        ops.push({ op: 'add', path: `${path}/${i}`, value: b[i] })
      return
    }
    const common = Math.min(a.length, b.length)
    for (let i = 0; i < common; i++) walk(a[i], b[i], `${path}/${i}`, ops)
    for (let i = a.length; i < b.length; i++) ops.push({ op: 'add', path: `${path}/${i}`, value: b[i] })
    for (let i = a.length - 1; i >= b.length; i--) ops.push({ op: 'remove', path: `${path}/${i}` })
    return
  }
  if (isObject(a) && isObject(b)) {
    for (const key of Object.keys(a)) {
      const av = a[key]
      const bv = Object.hasOwn(b, key) ? b[key] : undefined
      if (av === undefined || av === bv) continue
      const p = `${path}/${escapePointerToken(key)}`
      if (bv === undefined) ops.push({ op: 'remove', path: p })
      else walk(av, bv, p, ops)
    }
    for (const key of Object.keys(b)) {
      if (b[key] === undefined || (Object.hasOwn(a, key) && a[key] !== undefined)) continue
      ops.push({ op: 'add', path: `${path}/${escapePointerToken(key)}`, value: b[key] })
    }
    return
  }
  if (typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b)) return
  ops.push({ op: 'replace', path, value: b })
}

/** The operations that turn `before` into `after` (both plain JSON values). */
export function jsonPatch(before: unknown, after: unknown): PatchOperation[] {
  const ops: PatchOperation[] = []
  walk(before, after, '', ops)
  return ops
}
