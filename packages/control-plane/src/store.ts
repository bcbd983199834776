import type { Finding } from '@minimesh/api'
import { type ConfigSink, type KubeObject, objectKey } from './sources/source.ts'

export interface StoredObject {
  readonly key: string
  readonly object: KubeObject
  readonly origin: string
}

/**
 * The latest objects from the sources, as they were read (good or bad). Mutable; the snapshot
 * builder turns it into an immutable Snapshot. Every change bumps `revision` and calls the listener.
 */
export class ConfigStore implements ConfigSink {
  private readonly objects = new Map<string, StoredObject>()
  private readonly problems = new Map<string, Finding[]>()
  private readonly listeners = new Set<(key: string) => void>()
  revision = 0

  upsert(obj: KubeObject, origin: string): void {
    const key = objectKey(obj)
    const old = this.objects.get(key)
    if (old && old.object === obj) return
    this.objects.set(key, { key, object: obj, origin })
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

  private changed(key: string): void {
    this.revision++
    for (const fn of this.listeners) fn(key)
  }
}
