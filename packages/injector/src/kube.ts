// JSON helpers for the objects the injector rewrites; the object model itself (Pod, Container,
// …) is @minimesh/api/kube.

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * A deep copy of a JSON value (objects, arrays, primitives), several times faster than
 * structuredClone for pod-sized objects. A `__proto__` key stays an own property.
 */
export function cloneJson<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) return value.map(cloneJson) as T
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value)) {
    const v = cloneJson((value as Record<string, unknown>)[key])
    if (key === '__proto__') {
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true })
    } else out[key] = v
  }
  return out as T
}
