// The Deployment and Job controllers of the local cluster. Each runs per object, never twice at
// once (a request while one runs makes it run again when it ends), as kube-controller-manager's
// work queues do. They act through the cluster (ControllerHost): admit and create pods, delete them.

import type { Deployment, Job, NewPod } from '@minimesh/api/kube'
import type { Logger } from 'pino'
import type { ObjectStore } from '../store.ts'
import { podFromTemplate, templateHash } from './deployments.ts'
import type { PodEntry, ReconcileState } from './entries.ts'
import { jobNext, jobStatus, podFromJob } from './jobs.ts'

/** What the controllers need of the cluster. */
export interface ControllerHost {
  readonly store: ObjectStore
  readonly pods: ReadonlyMap<string, PodEntry>
  readonly log: Logger
  isDown(): boolean
  /** A pod through admission (the injector's webhook among them), as created by a controller. */
  admitPod(pod: NewPod): Promise<NewPod>
  createPod(pod: NewPod, owner: { deployment?: string; hash?: string; job?: string }): void
  deletePod(key: string): Promise<void>
  /** Services, endpoints and meshd's view follow pod changes. */
  changed(): void
}

interface Exclusive {
  running: boolean
  again: boolean
}

interface JobState extends Exclusive {
  timer?: NodeJS.Timeout
  start?: string
  end?: string
}

export class WorkloadControllers {
  /** Per Deployment: its last failure (shown in its status) and the retry backoff. */
  readonly deployments = new Map<string, ReconcileState>()
  readonly #jobs = new Map<string, JobState>()
  private readonly host: ControllerHost

  constructor(host: ControllerHost) {
    this.host = host
  }

  /** Runs the Deployment controller for one Deployment. */
  reconcileDeployment(key: string): void {
    const r = this.deployments.get(key) ?? { again: false, running: false, backoff: 1000 }
    this.deployments.set(key, r)
    clearTimeout(r.retry)
    this.#exclusive(
      key,
      r,
      this.deployments,
      () => this.#deploymentOnce(key, r),
      'deployment',
      () => this.reconcileDeployment(key),
    )
  }

  /** Runs the Job controller for one Job: its status, and a pod for the next attempt when due. */
  reconcileJob(key: string): void {
    const st = this.#jobs.get(key) ?? { running: false, again: false }
    this.#jobs.set(key, st)
    this.#exclusive(
      key,
      st,
      this.#jobs,
      () => this.#jobOnce(key, st),
      'job',
      () => this.reconcileJob(key),
    )
  }

  /** A deleted Deployment or Job: its timers stop and its pods go. */
  async forget(kind: 'Deployment' | 'Job', key: string): Promise<void> {
    const states: Map<string, Exclusive & { retry?: NodeJS.Timeout; timer?: NodeJS.Timeout }> =
      kind === 'Job' ? this.#jobs : this.deployments
    const st = states.get(key)
    clearTimeout(st?.retry)
    clearTimeout(st?.timer)
    states.delete(key)
    const owner = kind === 'Job' ? 'job' : 'deployment'
    const mine = [...this.host.pods].filter(([, e]) => e[owner] === key).map(([k]) => k)
    await Promise.all(mine.map((k) => this.host.deletePod(k)))
  }

  /** The cluster goes down: no timer fires again. */
  stop(): void {
    for (const r of this.deployments.values()) clearTimeout(r.retry)
    for (const j of this.#jobs.values()) clearTimeout(j.timer)
  }

  #exclusive<S extends Exclusive>(
    key: string,
    st: S,
    states: Map<string, S>,
    once: () => Promise<void>,
    what: string,
    again: () => void,
  ): void {
    if (st.running) {
      st.again = true
      return
    }
    st.running = true
    void once()
      .catch((err) => this.host.log.error({ err, [what]: key }, `${what} reconcile failed`))
      .finally(() => {
        st.running = false
        if (st.again && states.get(key) === st) {
          st.again = false
          again()
        }
      })
  }

  async #jobOnce(key: string, st: JobState): Promise<void> {
    const { store, pods } = this.host
    const job = store.get(key) as Job | undefined
    if (!job || this.host.isDown()) return
    const phases = [...pods.values()]
      .filter((e) => e.job === key && !e.terminating)
      .map((e) => e.runner.phase)
    st.start ??= new Date().toISOString()
    const next = jobNext(job, phases)
    if (next.action === 'done') st.end ??= new Date().toISOString()
    store.setStatus(key, jobStatus(job, phases, st))
    if (next.action !== 'create' || st.timer) return
    const gone = () => this.host.isDown() || store.get(key) !== job
    const create = async () => {
      st.timer = undefined
      if (gone()) return
      const pod = await this.host.admitPod(podFromJob(job))
      if (gone()) return
      this.host.createPod(pod, { job: key })
      store.setStatus(key, jobStatus(job, [...phases, 'Pending'], st))
      this.host.changed()
    }
    if (next.delayMs === 0) return create()
    st.timer = setTimeout(() => {
      create()
        .catch((err) =>
          this.host.log.warn({ job: key, err: (err as Error).message }, 'job pod creation failed'),
        )
        .finally(() => this.reconcileJob(key))
    }, next.delayMs)
  }

  async #deploymentOnce(key: string, r: ReconcileState): Promise<void> {
    if (this.host.isDown()) return
    const d = this.host.store.get(key) as Deployment | undefined
    if (!d) return
    const hash = templateHash(d)
    const mine = [...this.host.pods].filter(([, e]) => e.deployment === key && !e.terminating)
    const stale = mine.filter(([, e]) => e.hash !== hash)
    const current = mine.filter(([, e]) => e.hash === hash)
    const want = d.spec.replicas ?? 1
    const excess = current.slice(Math.max(0, want)).map(([k]) => k)
    // RollingUpdate (the default): the new pods come up beside the old ones, and an old pod goes
    // only as a new one is ready (maxUnavailable 0), so a rollout never leaves the Service without
    // endpoints. Recreate: the old pods go at once.
    const rolling = (d.spec.strategy as { type?: string } | undefined)?.type !== 'Recreate'
    const readyCurrent = current.filter(([, e]) => e.runner.ready).length
    const staleReady = stale.filter(([, e]) => e.runner.ready)
    const staleGoing = rolling
      ? [
          ...stale.filter(([, e]) => !e.runner.ready),
          ...staleReady.slice(0, Math.max(0, readyCurrent + staleReady.length - want)),
        ]
      : stale
    for (const k of [...staleGoing.map(([k]) => k), ...excess]) void this.host.deletePod(k)
    let missing = want - Math.min(current.length, want)
    r.failure = undefined
    while (missing-- > 0) {
      try {
        const pod = await this.host.admitPod(podFromTemplate(d, hash))
        if (this.host.isDown() || this.host.store.get(key) !== d) return
        this.host.createPod(pod, { deployment: key, hash })
        r.backoff = 1000
      } catch (err) {
        r.failure = `Error creating: ${(err as Error).message}`
        this.host.log.warn({ deployment: key, err: (err as Error).message }, 'pod creation failed; retrying')
        r.retry = setTimeout(() => this.reconcileDeployment(key), r.backoff)
        r.backoff = Math.min(r.backoff * 2, 10_000)
        break
      }
    }
    this.host.changed()
  }
}
