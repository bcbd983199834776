/**
 * The Kubernetes driver: the scenarios against a real Kubernetes through @kubernetes/client-node,
 * using meshctl's library (`Kube`, from @minimesh/cli). Two clusters use it, differing only in how
 * they are reached:
 * - kind: the kind cluster "minimesh" (a real Kubernetes in Docker); kind-global-setup.ts has
 *   created or reused it, loaded the images and run `meshctl install`; the gateway answers on the
 *   host through kind/cluster.yaml's port mapping;
 * - kube: the single-node cluster of kube/cluster.sh (upstream components as host processes);
 *   kube-global-setup.ts has brought it up and run `meshctl install`; the gateway's node port
 *   answers on the node's address through kube-proxy.
 *
 * Everything applied here uses the field manager `minimesh-e2e`, never `meshctl`: a server-side
 * apply drops the fields its manager applied before and leaves out, so a partial apply (a label,
 * a restart annotation) under `meshctl` would strip what `meshctl install` set.
 */
import {
  appContainer,
  type ConfigzObject,
  deploymentRollout,
  GATEWAY_HOST_PORT,
  type HeldVersion,
  hasRead,
  KIND_CONTEXT,
  Kube,
  type KubeObject,
  nodeFetchArgv,
  parseNodeFetchOutput,
  parseObjects,
  podsReadiness,
  proxiesSynced,
  refOf,
  waitUntil,
} from '@minimesh/cli'
import type { ClusterDriver, ExecResult, JobStatus, PodRef } from '../driver.ts'
import { runMeshctl } from '../meshctl.ts'
import { parsePodLoad, podLoadArgv } from '../pod-load.ts'

const FIELD_MANAGER = 'minimesh-e2e'
const MESH_NS = 'minimesh-system'
const progress = (line: string) => console.log(`[kube] ${line}`)

/** How a driver reaches its cluster. */
export interface KubeClusterTarget {
  name: 'kind' | 'kube'
  /** A kubeconfig file; default: $KUBECONFIG, else ~/.kube/config. */
  kubeconfig?: string
  context: string
  gatewayUrl: string
}

/** The kind cluster "minimesh" (context overridable with MESH_E2E_KUBE_CONTEXT). */
const KIND_TARGET: KubeClusterTarget = {
  name: 'kind',
  context: process.env.MESH_E2E_KUBE_CONTEXT ?? KIND_CONTEXT,
  gatewayUrl: `http://127.0.0.1:${GATEWAY_HOST_PORT}`,
}

/** The API groups of the resources meshd reads from the cluster and lists at /debug/configz. */
const MESH_GROUPS = /^(networking\.istio\.io|policy\.minimesh\.dev|security\.istio\.io)\//
const DELETED = '(deleted)'
const configKey = (obj: KubeObject) => `${obj.kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`

interface Configz {
  snapshot?: { version: number } | null
  objects: (ConfigzObject & { kind: string; namespace?: string; name: string })[]
}

export class KubeDriver implements ClusterDriver {
  readonly name: 'kind' | 'kube'
  readonly target: KubeClusterTarget
  #kube: Kube | undefined
  /** Mesh resources applied (the version the API server gave them) or deleted since meshd was last seen to read them. */
  readonly #pending = new Map<string, HeldVersion | typeof DELETED>()

  constructor(target: KubeClusterTarget = KIND_TARGET) {
    this.name = target.name
    this.target = target
  }

  get kube(): Kube {
    const { context, kubeconfig } = this.target
    this.#kube ??= Kube.connect({ context, ...(kubeconfig ? { kubeconfig } : {}) })
    return this.#kube
  }

  async setup(): Promise<void> {
    await this.kube.apply(
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'default', labels: { 'minimesh-injection': 'enabled' } },
      },
      true,
      FIELD_MANAGER,
    )
    await this.waitReady(MESH_NS, 'app=meshd', 180_000)
  }

  async apply(yaml: string, namespace = 'default'): Promise<void> {
    for (const obj of parseObjects(yaml, { namespace, source: 'e2e manifest' })) {
      const applied = await this.kube.apply(obj, true, FIELD_MANAGER)
      if (MESH_GROUPS.test(obj.apiVersion)) {
        const meta = applied.metadata as KubeObject['metadata'] & { uid?: string; generation?: number }
        this.#pending.set(configKey(obj), {
          resourceVersion: String(meta.resourceVersion ?? ''),
          ...(meta.uid ? { uid: meta.uid } : {}),
          ...(typeof meta.generation === 'number' ? { generation: meta.generation } : {}),
        })
      }
    }
  }

  async delete(yaml: string, namespace = 'default'): Promise<void> {
    for (const obj of parseObjects(yaml, { namespace, source: 'e2e manifest' }).reverse()) {
      await this.kube.delete(refOf(obj))
      if (MESH_GROUPS.test(obj.apiVersion)) this.#pending.set(configKey(obj), DELETED)
    }
  }

  async pods(namespace: string, selector: string): Promise<PodRef[]> {
    const pods = await this.kube.list('v1', 'Pod', namespace, selector)
    return pods
      .filter((p) => !p.metadata.deletionTimestamp)
      .map((p) => ({ namespace, name: p.metadata.name }))
      .sort((a, b) => a.name.localeCompare(b.name))
  }

  async #pod(pod: PodRef): Promise<KubeObject> {
    const obj = await this.kube.read({
      apiVersion: 'v1',
      kind: 'Pod',
      name: pod.name,
      namespace: pod.namespace,
    })
    if (!obj) throw new Error(`pod ${pod.namespace}/${pod.name} does not exist`)
    return obj
  }

  async exec(pod: PodRef, argv: string[], container?: string): Promise<ExecResult> {
    const name = container ?? appContainer((await this.#pod(pod)) as never)
    return this.kube.exec(pod.namespace, pod.name, name, argv)
  }

  async gatewayUrl(): Promise<string> {
    return this.target.gatewayUrl
  }

  async waitReady(namespace: string, selector: string, timeoutMs = 120_000): Promise<void> {
    await waitUntil(
      `pods ${selector} in ${namespace}`,
      async () =>
        podsReadiness(await this.kube.list('v1', 'Pod', namespace, selector), `${namespace} ${selector}`),
      { timeoutMs, intervalMs: 1000, progress },
    )
  }

  async logs(pod: PodRef, container?: string): Promise<string> {
    const name = container ?? appContainer((await this.#pod(pod)) as never)
    return this.kube.logs(pod.namespace, pod.name, name)
  }

  async fetchFromPod(
    pod: PodRef,
    url: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: string }> {
    const res = await this.exec(pod, nodeFetchArgv(url, headers))
    if (res.code !== 0)
      throw new Error(
        `fetch ${url} in ${pod.namespace}/${pod.name} failed (exit ${res.code}): ${res.stderr.trim()}`,
      )
    return parseNodeFetchOutput(res.stdout)
  }

  async loadFromPod(pod: PodRef, url: string, count: number, concurrency: number) {
    const res = await this.exec(pod, podLoadArgv('node', url, count, concurrency))
    return parsePodLoad(
      res.stdout,
      `${pod.namespace}/${pod.name} (exit ${res.code}: ${res.stderr.trim().slice(0, 200)})`,
    )
  }

  meshctl(args: string[]): Promise<ExecResult> {
    return runMeshctl([
      ...args,
      ...(this.target.kubeconfig ? ['--kubeconfig', this.target.kubeconfig] : []),
      '--context',
      this.target.context,
    ])
  }

  async waitConfigPropagated(timeoutMs = 30_000): Promise<void> {
    // First meshd must have read every mesh resource this driver applied or deleted, at the
    // version the API server gave it or later (its watch can lag the apply by more than any fixed
    // pause; meshd's own status write moves the resourceVersion on, not the generation); then two
    // polls in a row where every proxy has ACKed everything.
    const pending = new Map(this.#pending)
    let snapshot: number | undefined
    await waitUntil(
      'meshd to read what was applied',
      async () => {
        const text = await this.kube.serviceProxyGet(MESH_NS, 'meshd', 15014, '/debug/configz')
        const configz = (typeof text === 'string' ? JSON.parse(text) : text) as Configz
        snapshot = configz.snapshot?.version
        const seen = new Map<string, ConfigzObject>()
        for (const o of configz.objects) seen.set(`${o.kind}/${o.namespace ?? ''}/${o.name}`, o)
        const behind = [...pending].filter(([key, held]) =>
          held === DELETED ? seen.has(key) : !hasRead(seen.get(key), held),
        )
        return {
          done: behind.length === 0,
          message: `meshd has not read ${behind.map(([k]) => k).join(', ')}`,
        }
      },
      { timeoutMs, intervalMs: 100 },
    )
    for (const key of pending.keys()) this.#pending.delete(key)
    let streak = 0
    await waitUntil(
      'config propagation',
      async () => {
        const text = await this.kube.serviceProxyGet(MESH_NS, 'meshd', 15014, '/debug/syncz')
        const state = proxiesSynced(typeof text === 'string' ? JSON.parse(text) : text, snapshot)
        streak = state.done ? streak + 1 : 0
        return { done: streak >= 2, message: state.message }
      },
      { timeoutMs, intervalMs: 250 },
    )
  }

  async restartControlPlane(): Promise<void> {
    // What `kubectl rollout restart deployment/meshd` does: a new template annotation.
    await this.kube.apply(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'meshd', namespace: MESH_NS },
        spec: {
          template: {
            metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } },
          },
        },
      },
      true,
      FIELD_MANAGER,
    )
    await waitUntil(
      'rollout of meshd',
      async () => {
        const dep = await this.kube.read({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: 'meshd',
          namespace: MESH_NS,
        })
        return dep ? deploymentRollout(dep) : { done: false, message: 'meshd Deployment is gone' }
      },
      { timeoutMs: 120_000, intervalMs: 1000, progress },
    )
  }

  async jobStatus(namespace: string, name: string): Promise<JobStatus | undefined> {
    const job = await this.kube.read({ apiVersion: 'batch/v1', kind: 'Job', name, namespace })
    return job?.status as JobStatus | undefined
  }

  async rolloutRestart(namespace: string, name: string): Promise<void> {
    await this.kube.apply(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace },
        spec: {
          template: {
            metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } },
          },
        },
      },
      true,
      `${FIELD_MANAGER}-restart`,
    )
  }

  async proxyMetrics(pod: PodRef): Promise<string> {
    const res = await this.exec(pod, nodeFetchArgv('http://127.0.0.1:15020/stats/prometheus'), 'mesh-proxy')
    if (res.code !== 0)
      throw new Error(
        `metrics of ${pod.namespace}/${pod.name} failed (exit ${res.code}): ${res.stderr.trim()}`,
      )
    return parseNodeFetchOutput(res.stdout).body
  }

  async teardown(): Promise<void> {
    // The cluster stays for the next run (bash kind/down.sh removes it); nothing to close.
  }
}
