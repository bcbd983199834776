// Keeping what follows from pods and Services current: Endpoints, DNAT rules, each pod's hosts
// file, Pod and Deployment status, and the state directory meshd reads. Changes are coalesced:
// `schedule()` marks the cluster unsynced and runs one sync shortly after.

import type { Deployment, KubeObject, Service } from '@minimesh/api/kube'
import type { Logger } from 'pino'
import { kindByName, objectKey } from './kube/kinds.ts'
import { renderHostsFile } from './net/hosts-file.ts'
import type { Network } from './net/network.ts'
import type { StateDir } from './state-dir.ts'
import type { ObjectStore } from './store.ts'
import { deploymentStatus, templateHash } from './workload/deployments.ts'
import { endpointsFor, portRules, serviceAddress } from './workload/endpoints.ts'
import type { PodEntry, ReconcileState } from './workload/entries.ts'
import type { PodRunner } from './workload/pod.ts'

export interface DerivedStateDeps {
  store: ObjectStore
  network: Network
  state: StateDir
  pods: ReadonlyMap<string, PodEntry>
  reconciling: ReadonlyMap<string, ReconcileState>
  clusterDomain: string
  log: Logger
  isDown: () => boolean
  /** Called after every sync (the cluster emits 'change'). */
  onSynced: () => void
}

export class DerivedState {
  private readonly d: DerivedStateDeps
  #chain: Promise<void> = Promise.resolve()
  #queued = false
  /** Changes not yet reflected in Endpoints, DNAT rules and the state dir. */
  unsynced = false

  constructor(deps: DerivedStateDeps) {
    this.d = deps
  }

  /** Resolves once the sync in progress (if any) is done. */
  settled(): Promise<void> {
    return this.#chain.catch(() => {})
  }

  writeHosts(runner: PodRunner): void {
    if (!runner.net) return
    const services = (this.d.store.list(kindByName('service')) as Service[])
      .map((s) =>
        serviceAddress(
          s,
          this.d.store.find(kindByName('endpoints'), s.metadata.namespace, s.metadata.name) as never,
        ),
      )
      .filter((s) => s !== undefined)
    this.d.network.writeEtcFile(
      runner.net.netns,
      'hosts',
      renderHostsFile({
        podName: runner.pod.metadata.name,
        podNamespace: runner.pod.metadata.namespace!,
        podIp: runner.net.ip,
        services,
        clusterDomain: this.d.clusterDomain,
      }),
    )
  }

  schedule(): void {
    this.unsynced = true
    if (this.#queued || this.d.isDown()) return
    this.#queued = true
    this.#chain = this.#chain.then(async () => {
      await new Promise((r) => setTimeout(r, 10))
      this.#queued = false
      if (this.d.isDown()) return
      this.unsynced = false
      try {
        await this.#sync()
      } catch (err) {
        this.d.log.error({ err }, 'sync failed')
      }
      this.d.onSynced()
    })
  }

  async #sync(): Promise<void> {
    const svcKind = kindByName('service')
    const epKind = kindByName('endpoints')
    const views = [...this.d.pods.values()].map((e) => ({
      pod: e.runner.pod,
      ip: e.runner.podIp,
      ready: e.runner.ready,
      terminating: e.terminating,
    }))
    const rules = []
    for (const svc of this.d.store.list(svcKind) as Service[]) {
      const computed = endpointsFor(svc, views)
      if (computed) {
        const { object, action } = this.d.store.put(computed as KubeObject)
        if (action !== 'unchanged') this.d.state.write(object, true)
      }
      rules.push(
        ...portRules(svc, this.d.store.find(epKind, svc.metadata.namespace, svc.metadata.name) as never),
      )
    }
    await this.d.network.syncServices(rules)
    for (const e of this.d.pods.values()) {
      this.writeHosts(e.runner)
      const key = objectKey(e.runner.pod)
      if (e.terminating || !this.d.store.get(key)) continue
      this.d.store.setStatus(key, e.runner.status())
      this.d.state.write(this.d.store.get(key)!, true)
    }
    for (const d of this.d.store.list(kindByName('deployment')) as Deployment[]) {
      const key = objectKey(d)
      const pods = [...this.d.pods.values()].filter((e) => e.deployment === key && !e.terminating)
      this.d.store.setStatus(
        key,
        deploymentStatus(
          d,
          pods.map((e) => ({ hash: e.hash, ready: e.runner.ready })),
          templateHash(d),
          this.d.reconciling.get(key)?.failure,
        ),
      )
    }
  }
}
