/**
 * Defensive readers for cross-resource checks. Analysis runs on every input, including objects that
 * failed validation (their errors are reported separately), so nothing here trusts the shape.
 */
import type { FieldPath } from '../schema/index.ts'

export function rec(x: unknown): Record<string, unknown> | undefined {
  return typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Record<string, unknown>) : undefined
}

export function arr(x: unknown): unknown[] {
  return Array.isArray(x) ? x : []
}

export function str(x: unknown): string | undefined {
  return typeof x === 'string' ? x : undefined
}

/** String entries of an array, with their index. */
export function strings(x: unknown): [string, number][] {
  return arr(x).flatMap((v, i) => (typeof v === 'string' ? [[v, i] as [string, number]] : []))
}

/** A map of string to string (labels, selectors, dimensions); other values are left out. */
export function stringMap(x: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(rec(x) ?? {})) if (typeof v === 'string') out[k] = v
  return out
}

/** A destination named in a VirtualService route or mirror, with its field path. */
export interface DestinationRef {
  host: string
  subset?: string
  /** Path of the destination object (`spec.http[0].route[1].destination`). */
  path: FieldPath
}

export function destinationsOf(spec: Record<string, unknown>): DestinationRef[] {
  const out: DestinationRef[] = []
  const add = (d: unknown, path: FieldPath) => {
    const dest = rec(d)
    const host = str(dest?.host)
    if (host) out.push({ host, subset: str(dest?.subset), path })
  }
  arr(spec.http).forEach((h, i) => {
    const http = rec(h)
    arr(http?.route).forEach((r, j) => {
      add(rec(r)?.destination, ['spec', 'http', i, 'route', j, 'destination'])
    })
    if (http?.mirror) add(http.mirror, ['spec', 'http', i, 'mirror'])
  })
  return out
}
