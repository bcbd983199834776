// Resource status written back (Istio's config status, Kubernetes' status subresource): after each
// snapshot, each mesh resource's outcome (Reconciled condition, observedGeneration, validation
// messages) is compared with the status the object holds, and written only where they differ.
// Writing never makes meshd rebuild: the store takes a status-only update without a change event
// (store.ts) and calls recheck, which finds the status now as wanted and writes nothing.
import {
  MESH_KINDS,
  type MeshResourceStatus,
  resourceStatus,
  statusFingerprint,
  withTransitionTime,
} from '@minimesh/api'
import type { Logger } from 'pino'
import type { Metrics } from '../monitoring/metrics.ts'
import type { ConfigSnapshot } from '../snapshot.ts'
import type { ConfigStore } from '../store.ts'

/** The object a status is written to. */
export interface StatusTarget {
  /** The store key (`group/Kind/namespace/name`). */
  key: string
  group: string
  kind: string
  namespace: string
  name: string
}

/** Where status goes: the API server's status subresource, or a recording for tests. */
export interface StatusWriter {
  /** Writes the whole status of the object; `gone` when the object no longer exists. */
  write(target: StatusTarget, status: MeshResourceStatus): Promise<'written' | 'gone'>
}

export interface StatusReporterOptions {
  logger?: Logger
  metrics?: Metrics
  /** Writes in flight at once. Default 4. */
  concurrency?: number
  /** Retry after a failed write: doubles from initialMs up to maxMs. Default 1 s, 30 s. */
  retry?: { initialMs: number; maxMs: number }
  /** The clock for lastTransitionTime. */
  now?: () => Date
}

interface Wanted {
  target: StatusTarget
  status: MeshResourceStatus
  fingerprint: string
}

const MESH_KIND_GROUPS = new Map(MESH_KINDS.map((k) => [k.kind, k.group]))

/**
 * The status each mesh resource of a snapshot should have. Ignored objects and other kinds get
 * none; a resource without a namespace is in `default`, as the snapshot reads it.
 */
function wantedStatuses(
  snapshot: ConfigSnapshot,
): Map<string, { target: StatusTarget; status: MeshResourceStatus }> {
  const out = new Map<string, { target: StatusTarget; status: MeshResourceStatus }>()
  for (const st of snapshot.status) {
    const group = MESH_KIND_GROUPS.get(st.kind)
    if (!group || st.state === 'ignored' || !st.key.startsWith(`${group}/`)) continue
    out.set(st.key, {
      target: { key: st.key, group, kind: st.kind, namespace: st.namespace ?? 'default', name: st.name },
      status: resourceStatus(st),
    })
  }
  return out
}

/**
 * Keeps the status of every mesh resource in line with meshd's verdict, writing only what changed,
 * a few writes at a time, retrying failures with backoff. Never throws: a failed write is logged
 * and retried, and stops being retried once the verdict changes or the object goes.
 */
export class StatusReporter {
  private readonly writer: StatusWriter
  private readonly store: ConfigStore
  private readonly log?: Logger
  private readonly metrics?: Metrics
  private readonly concurrency: number
  private readonly retry: { initialMs: number; maxMs: number }
  private readonly now: () => Date
  private wanted = new Map<string, Wanted>()
  /**
   * Per key, what was last written (fingerprint) to which incarnation (uid) of the object, and
   * whether it was read back as written (confirmed).
   */
  private readonly written = new Map<string, { fingerprint: string; uid?: string; confirmed: boolean }>()
  private readonly queue = new Set<string>()
  private readonly running = new Set<string>()
  private readonly failures = new Map<
    string,
    { delay: number; fingerprint: string; timer?: NodeJS.Timeout }
  >()
  private idleWaiters: (() => void)[] = []
  private closed = false

  constructor(writer: StatusWriter, store: ConfigStore, options: StatusReporterOptions = {}) {
    this.writer = writer
    this.store = store
    this.log = options.logger
    this.metrics = options.metrics
    this.concurrency = options.concurrency ?? 4
    this.retry = options.retry ?? { initialMs: 1000, maxMs: 30_000 }
    this.now = options.now ?? (() => new Date())
  }

  /** After a snapshot is built: the verdicts it holds are what every status should say. */
  update(snapshot: ConfigSnapshot): void {
    if (this.closed) return
    const next = new Map<string, Wanted>()
    for (const [key, w] of wantedStatuses(snapshot))
      next.set(key, { ...w, fingerprint: statusFingerprint(w.status) })
    for (const key of this.wanted.keys())
      if (!next.has(key)) {
        this.written.delete(key)
        this.queue.delete(key)
        this.clearFailure(key)
      }
    this.wanted = next
    for (const key of next.keys()) this.consider(key)
    this.pump()
  }

  /** The status of `key` changed in the store (a write read back, or someone else's). */
  recheck(key: string): void {
    if (this.closed || !this.wanted.has(key)) return
    this.consider(key)
    this.pump()
  }

  /** Resolves once no write is queued, running or waiting to be retried. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  close(): void {
    this.closed = true
    this.queue.clear()
    for (const key of [...this.failures.keys()]) this.clearFailure(key)
    this.notifyIdle()
  }

  private isIdle(): boolean {
    return this.queue.size === 0 && this.running.size === 0 && this.failures.size === 0
  }

  private notifyIdle(): void {
    if (!this.isIdle() && !this.closed) return
    const waiters = this.idleWaiters
    this.idleWaiters = []
    for (const w of waiters) w()
  }

  /** Queues a write for `key` when its object's status differs from the wanted one. */
  private consider(key: string): void {
    const want = this.wanted.get(key)
    const stored = this.store.get(key)
    const last = this.written.get(key)
    const mine = last && last.fingerprint === want?.fingerprint && last.uid === stored?.object.metadata.uid
    if (!want || !stored || statusFingerprint(stored.object.status) === want.fingerprint) {
      if (mine) last.confirmed = true
      this.clearFailure(key)
      return
    }
    if (this.running.has(key)) return // looked at again when that write ends
    // Written to this object and not yet read back as written: its read-back is on its way (or
    // the server keeps it in another form, and writing it again would only repeat). Once read
    // back, a different status is someone else's: written over, once per such change.
    if (mine && !last.confirmed) {
      this.clearFailure(key)
      return
    }
    const failed = this.failures.get(key)
    if (failed && failed.fingerprint === want.fingerprint) {
      if (failed.timer) return // its retry is scheduled
    } else if (failed) this.clearFailure(key) // a new verdict: write it now
    this.queue.add(key)
  }

  private pump(): void {
    while (!this.closed && this.running.size < this.concurrency && this.queue.size > 0) {
      const key = this.queue.values().next().value as string
      this.queue.delete(key)
      void this.writeOne(key)
    }
    this.notifyIdle()
  }

  private async writeOne(key: string): Promise<void> {
    const want = this.wanted.get(key)
    const stored = this.store.get(key)
    if (!want || !stored) return
    this.running.add(key)
    const status = withTransitionTime(want.status, stored.object.status, this.now().toISOString())
    try {
      const result = await this.writer.write(want.target, status)
      this.metrics?.statusWrites.inc({ result })
      // Gone: its deletion is on its way over the watch; not written again unless re-created.
      if (result === 'written' || result === 'gone') {
        this.written.set(key, {
          fingerprint: want.fingerprint,
          uid: stored.object.metadata.uid,
          confirmed: false,
        })
        this.log?.debug({ object: key, result, reason: status.conditions[0]?.reason }, 'status: write done')
      }
      this.clearFailure(key)
    } catch (err) {
      this.metrics?.statusWrites.inc({ result: 'failed' })
      this.scheduleRetry(key, want.fingerprint, err)
    } finally {
      this.running.delete(key)
      // Look again: the verdict may have changed meanwhile, and the read-back may have come in
      // before the write's own answer (a watch event can beat the response), which confirms it.
      this.consider(key)
      this.pump()
    }
  }

  private scheduleRetry(key: string, fingerprint: string, err: unknown): void {
    if (this.closed) return
    const first = !this.failures.has(key)
    const f = this.failures.get(key) ?? { delay: this.retry.initialMs, fingerprint }
    f.fingerprint = fingerprint
    const fields = { object: key, err: (err as Error).message, retryInMs: f.delay }
    if (first) this.log?.warn(fields, 'status: write failed; retrying')
    else this.log?.debug(fields, 'status: write failed again; retrying')
    f.timer = setTimeout(() => {
      f.timer = undefined
      f.delay = Math.min(f.delay * 2, this.retry.maxMs)
      if (this.closed) return
      this.consider(key)
      this.pump()
    }, f.delay)
    this.failures.set(key, f)
  }

  private clearFailure(key: string): void {
    const f = this.failures.get(key)
    if (!f) return
    if (f.timer) clearTimeout(f.timer)
    this.failures.delete(key)
  }
}
