import { isDeepStrictEqual } from 'node:util'
import type { Finding } from '@minimesh/api'
import type { KubeObject } from '@minimesh/api/kube'
import { type ConfigSink, objectKey } from './sources/source.ts'

export interface StoredObject {
  readonly key: string
  readonly object: KubeObject
  readonly origin: string
}

/**
 * The object without what changes when only its status is written: the status itself and the
 * resourceVersion every write bumps.
 */
function content(obj: KubeObject): unknown {
  const { status: _status, ...rest } = obj
  const { resourceVersion: _rv, ...metadata } = obj.metadata
  return { ...rest, metadata }
}

/**
 * The latest objects from the sources, as they were read (good or bad). Mutable; the snapshot
 * builder turns it into an immutable ConfigSnapshot. Every change bumps `revision` and calls the change
 * listeners. An update that changes only the status (and resourceVersion) of an object, as meshd's
 * own status write does, is stored without being a change: it calls the status listeners instead,
 * so writing status never makes meshd rebuild and push.
 */
export class ConfigStore implements ConfigSink {
  private readonly objects = new Map<string, StoredObject>()
  private readonly problems = new Map<string, Finding[]>()
  private readonly listeners = new Set<(key: string) => void>()
  private readonly statusListeners = new Set<(key: string) => void>()
  revision = 0

  upsert(obj: KubeObject, origin: string): void {
    const key = objectKey(obj)
    const old = this.objects.get(key)
    if (old && old.object === obj) return
    this.objects.set(key, { key, object: obj, origin })
    if (old && old.origin === origin && isDeepStrictEqual(content(old.object), content(obj))) {
      for (const fn of this.statusListeners) fn(key)
      return
    }
    this.changed(key)
  }

  remove(key: string, origin: string): void {
    const old = this.objects.get(key)
    // A file deleted after another file took over the same object does not remove it.
    if (!old || (old.origin !== origin && origin !== '*')) return
    this.objects.delete(key)
    this.changed(key)
  }

  report(origin: string, findings: Finding[]): void {
    if (findings.length === 0) {
      if (this.problems.delete(origin)) this.changed(origin)
      return
    }
    const old = this.problems.get(origin)
    if (old && JSON.stringify(old) === JSON.stringify(findings)) return
    this.problems.set(origin, findings)
    this.changed(origin)
  }

  get(key: string): StoredObject | undefined {
    return this.objects.get(key)
  }

  /** Every object, in no particular order. */
  values(): IterableIterator<StoredObject> {
    return this.objects.values()
  }

  get size(): number {
    return this.objects.size
  }

  /** Problems that are about an origin (a file) rather than an object. */
  originProblems(): ReadonlyMap<string, readonly Finding[]> {
    return this.problems
  }

  /** Calls `fn` with the key (or origin) of every change; returns a function that stops it. */
  onChange(fn: (key: string) => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  /** Calls `fn` with the key of every object whose status alone changed; returns a function that stops it. */
  onStatusChange(fn: (key: string) => void): () => void {
    this.statusListeners.add(fn)
    return () => this.statusListeners.delete(fn)
  }

  private changed(key: string): void {
    this.revision++
    for (const fn of this.listeners) fn(key)
  }
}
