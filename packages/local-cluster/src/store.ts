// The cluster's objects, as an API server keeps them: keyed by group/kind/namespace/name, with
// server-set metadata (uid, creationTimestamp, resourceVersion, generation) and apply semantics
// (created / configured / unchanged).
import { randomUUID } from 'node:crypto'
import { isDeepStrictEqual } from 'node:util'
import type { KubeObject } from '@minimesh/api/kube'
import { type KindInfo, keyOf, kindOf } from './kube/kinds.ts'

export type ApplyAction = 'created' | 'configured' | 'unchanged'

const SERVER_FIELDS = [
  'uid',
  'creationTimestamp',
  'resourceVersion',
  'generation',
  'managedFields',
  'selfLink',
]

/** The object without what the server sets, for comparing what a user applied. */
function userView(obj: KubeObject): KubeObject {
  const { status: _status, ...rest } = obj
  const metadata = { ...obj.metadata }
  for (const f of SERVER_FIELDS) delete metadata[f]
  return { ...rest, metadata } as KubeObject
}

function specOf(obj: KubeObject): unknown {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj
  return rest
}

export class ObjectStore {
  readonly #objects = new Map<string, KubeObject>()
  #version = 1

  get(key: string): KubeObject | undefined {
    return this.#objects.get(key)
  }

  find(info: KindInfo, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.#objects.get(keyOf(info, namespace, name))
  }

  list(info?: KindInfo, namespace?: string): KubeObject[] {
    const out: KubeObject[] = []
    for (const obj of this.#objects.values()) {
      if (info && (obj.kind !== info.kind || kindOf(obj).group !== info.group)) continue
      if (namespace !== undefined && info?.namespaced !== false && obj.metadata.namespace !== namespace)
        continue
      out.push(obj)
    }
    return out.sort(
      (a, b) =>
        (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') ||
        a.metadata.name.localeCompare(b.metadata.name),
    )
  }

  /** What storing `obj` would do, without storing it. */
  actionFor(obj: KubeObject): ApplyAction {
    const old = this.#objects.get(keyOf(kindOf(obj), obj.metadata.namespace, obj.metadata.name))
    if (!old) return 'created'
    return isDeepStrictEqual(userView(old), userView(obj)) ? 'unchanged' : 'configured'
  }

  /** Stores `obj` (server fields filled or carried over); returns the stored object and what happened. */
  put(obj: KubeObject): { object: KubeObject; action: ApplyAction; previous?: KubeObject } {
    const info = kindOf(obj)
    const key = keyOf(info, obj.metadata.namespace, obj.metadata.name)
    const old = this.#objects.get(key)
    const action = this.actionFor(obj)
    if (action === 'unchanged' && old) return { object: old, action, previous: old }
    const stored = structuredClone(obj)
    stored.metadata.uid = old?.metadata.uid ?? obj.metadata.uid ?? randomUUID()
    stored.metadata.creationTimestamp = old?.metadata.creationTimestamp ?? new Date().toISOString()
    stored.metadata.resourceVersion = String(++this.#version)
    const oldGen = old?.metadata.generation ?? 0
    stored.metadata.generation = old && isDeepStrictEqual(specOf(old), specOf(obj)) ? oldGen : oldGen + 1
    if (old?.status !== undefined && stored.status === undefined) stored.status = old.status
    this.#objects.set(key, stored)
    return { object: stored, action, previous: old }
  }

  /** Replaces the status of a stored object (no generation change). */
  setStatus(key: string, status: unknown): void {
    const obj = this.#objects.get(key)
    if (obj) obj.status = status
  }

  delete(key: string): KubeObject | undefined {
    const obj = this.#objects.get(key)
    this.#objects.delete(key)
    return obj
  }
}
