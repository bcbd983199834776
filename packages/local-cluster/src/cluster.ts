// LocalCluster: a Kubernetes-shaped cluster on one host. Objects are applied as to an API server
// (admission webhooks included); Deployments and Pods run as processes in network namespaces;
// Services get ClusterIPs, Endpoints, DNAT rules and hosts-file names; the state directory meshd
// watches is kept current. See README.md for the API.
import { EventEmitter } from 'node:events'
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import type {
  Deployment,
  Job,
  KubeObject,
  LabelSelector,
  NewObject,
  NewPod,
  Pod,
  Service,
} from '@minimesh/api/kube'
import type { Logger } from 'pino'
import { Admission } from './admission/admission.ts'
import type { Operation, WebhookConfiguration } from './admission/webhooks.ts'
import { DerivedState } from './derived-state.ts'
import { LocalClusterError } from './errors.ts'
import { checkImages, defaultImageTable, type ImageTable } from './images.ts'
import {
  formatRef,
  KINDS,
  type KindInfo,
  keyOf,
  kindByName,
  kindOf,
  type ObjectRef,
  objectKey,
} from './kube/kinds.ts'
import { defaultContainer, normalize, refOf } from './kube/objects.ts'
import { matchesSelector, parseSelector } from './kube/selector.ts'
import { Ledger, processStartTime } from './ledger.ts'
import { createLogger } from './log.ts'
import { cleanupHost } from './net/cleanup.ts'
import { type HostExec, SpawnExec } from './net/exec.ts'
import { renderResolvConf } from './net/hosts-file.ts'
import { IpAllocator, parseCidr } from './net/ipv4.ts'
import { Network } from './net/network.ts'
import { checkAddressRanges, checkRoot, checkTools } from './net/preflight.ts'
import {
  type ApplyResult,
  DEFAULT_NETWORK,
  derivedPrefixes,
  LAST_APPLIED,
  type LocalClusterOptions,
} from './options.ts'
import { defaultRunDir, podLogDir, podVolumeDir, runPaths } from './paths.ts'
import { notReadyError, type ReadinessSummary, summarizeReadiness, type WaitOptions } from './readiness.ts'
import { StateDir } from './state-dir.ts'
import { type ApplyAction, ObjectStore } from './store.ts'
import { WorkloadControllers } from './workload/controllers.ts'
import { nameSuffix } from './workload/deployments.ts'
import { type PodEntry, withPodStatus } from './workload/entries.ts'
import { envSourcesFor } from './workload/env-sources.ts'
import { type ExecResult, type ExecSpec, execInPod } from './workload/exec.ts'
import { PodRunner } from './workload/pod.ts'
import { ServiceAccountTokenIssuer } from './workload/service-account-tokens.ts'
import { assignClusterIp, resolveServicePort, serviceUrl } from './workload/services.ts'

export { type ApplyResult, DEFAULT_NETWORK, LAST_APPLIED, type LocalClusterOptions } from './options.ts'
export type { ReadinessSummary, WaitOptions } from './readiness.ts'

export class LocalCluster extends EventEmitter {
  readonly runDir: string
  readonly stateDir: string
  readonly options: Required<Omit<LocalClusterOptions, 'logger' | 'exec' | 'images'>> & { images: ImageTable }
  readonly log: Logger
  readonly #exec: HostExec
  readonly #ledger: Ledger
  #tokens?: ServiceAccountTokenIssuer
  readonly #network: Network
  readonly #store = new ObjectStore()
  readonly #state: StateDir
  readonly #admission: Admission
  readonly #pods = new Map<string, PodEntry>()
  readonly #clusterIps: IpAllocator
  readonly #controllers: WorkloadControllers
  readonly #derived: DerivedState
  #down = false

  private constructor(opts: LocalClusterOptions) {
    super()
    this.setMaxListeners(0)
    const o = { ...DEFAULT_NETWORK, ...derivedPrefixes(opts.bridge), ...opts }
    this.runDir = o.runDir ?? defaultRunDir()
    this.options = {
      runDir: this.runDir,
      bridge: o.bridge,
      podCidr: o.podCidr,
      serviceCidr: o.serviceCidr,
      netnsPrefix: o.netnsPrefix,
      linkPrefix: o.linkPrefix,
      chainPrefix: o.chainPrefix,
      images: o.images ?? defaultImageTable(),
      clusterDomain: o.clusterDomain ?? 'cluster.local',
      maxGraceSeconds: o.maxGraceSeconds ?? 5,
    }
    const paths = runPaths(this.runDir)
    this.stateDir = paths.stateDir
    this.log = opts.logger ?? createLogger()
    this.#exec = opts.exec ?? new SpawnExec()
    this.#ledger = new Ledger(this.runDir)
    this.#network = new Network({
      exec: this.#exec,
      ledger: this.#ledger,
      log: this.log,
      bridge: this.options.bridge,
      podCidr: this.options.podCidr,
      serviceCidr: this.options.serviceCidr,
      netnsPrefix: this.options.netnsPrefix,
      linkPrefix: this.options.linkPrefix,
      chainPrefix: this.options.chainPrefix,
    })
    const svc = parseCidr(this.options.serviceCidr)
    this.#clusterIps = new IpAllocator(svc)
    this.#state = new StateDir(this.stateDir)
    this.#controllers = new WorkloadControllers({
      store: this.#store,
      pods: this.#pods,
      log: this.log,
      isDown: () => this.#down,
      admitPod: async (pod) =>
        (await this.#admit('CREATE', kindByName('pod'), pod, undefined)).object as NewPod,
      createPod: (pod, owner) => this.#createPod(pod, owner),
      deletePod: (key) => this.#deletePod(key),
      changed: () => this.#derived.schedule(),
    })
    this.#derived = new DerivedState({
      store: this.#store,
      network: this.#network,
      state: this.#state,
      pods: this.#pods,
      reconciling: this.#controllers.deployments,
      clusterDomain: this.options.clusterDomain,
      log: this.log,
      isDown: () => this.#down,
      onSynced: () => this.emit('change'),
    })
    this.#admission = new Admission({
      mutating: () => this.#webhookConfigs('MutatingWebhookConfiguration'),
      validating: () => this.#webhookConfigs('ValidatingWebhookConfiguration'),
      resolve: (ns, name, port) => resolveServicePort(this.#store, ns, name, port),
      log: this.log,
    })
  }

  /**
   * Checks the host (root, ip/iptables/setpriv, free address ranges), cleans up after a previous
   * run that crashed, makes the bridge and rules, and creates the `default` namespace.
   */
  static async start(options: LocalClusterOptions = {}): Promise<LocalCluster> {
    checkRoot()
    checkTools()
    const runDir = options.runDir ?? defaultRunDir()
    mkdirSync(runDir, { recursive: true })
    // Containers run as other users (the proxy as its own uid) and read their volumes below it.
    chmodSync(runDir, 0o755)
    const exec = options.exec ?? new SpawnExec()
    const leftover = Ledger.read(runDir)
    if (leftover) {
      await cleanupHost(leftover, exec, options.logger)
      rmSync(runPaths(runDir).ledger, { force: true })
    }
    const paths = runPaths(runDir)
    for (const dir of [paths.stateDir, paths.podsDir, paths.logsDir])
      rmSync(dir, { recursive: true, force: true })
    const c = new LocalCluster({ ...options, runDir, exec })
    await checkAddressRanges(exec, c.options)
    try {
      await c.#network.setup()
      writeFileSync(
        paths.clusterFile,
        `${JSON.stringify({ ...c.options, images: undefined, pid: process.pid }, null, 2)}\n`,
      )
      await c.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } }])
    } catch (err) {
      await c.#network.teardown().catch(() => {})
      throw err
    }
    c.log.info({ runDir, bridge: c.options.bridge, podCidr: c.options.podCidr }, 'local cluster up')
    return c
  }

  // ---- API ---------------------------------------------------------------------------------

  /**
   * Applies objects like `kubectl apply`: every object is checked and admitted first (a denial or
   * an unknown kind changes nothing), then stored in order and acted on.
   */
  async apply(input: readonly Record<string, unknown>[]): Promise<ApplyResult[]> {
    this.#assertUp()
    const staged: { obj: KubeObject; info: KindInfo; warnings: string[]; unchanged?: boolean }[] = []
    const batchNamespaces = new Set<string>()
    for (const raw of input) {
      const obj = normalize(raw)
      const info = kindOf(obj)
      const lastApplied = JSON.stringify(obj)
      obj.metadata.annotations = { ...(obj.metadata.annotations ?? {}), [LAST_APPLIED]: lastApplied }
      if (info.namespaced) {
        const ns = obj.metadata.namespace!
        if (!batchNamespaces.has(ns) && !this.#store.find(kindByName('namespace'), undefined, ns)) {
          throw new LocalClusterError(
            'MESH_ERR_LOCAL_NOT_FOUND',
            `${formatRef({ kind: obj.kind, namespace: ns, name: obj.metadata.name })}: namespace "${ns}" not found`,
          )
        }
      } else if (info.kind === 'Namespace') {
        batchNamespaces.add(obj.metadata.name)
        obj.metadata.labels = {
          ...(obj.metadata.labels ?? {}),
          'kubernetes.io/metadata.name': obj.metadata.name,
        }
      }
      const owner = `${info.kind} ${obj.metadata.namespace}/${obj.metadata.name}`
      if (info.kind === 'Pod') checkImages(this.options.images, (obj as Pod).spec, owner)
      if (info.kind === 'Deployment' || info.kind === 'Job')
        checkImages(this.options.images, (obj as Deployment | Job).spec.template.spec, owner)
      const existing = this.#store.find(info, obj.metadata.namespace, obj.metadata.name)
      if (existing?.metadata.annotations?.[LAST_APPLIED] === lastApplied) {
        staged.push({ obj: existing, info, warnings: [], unchanged: true })
        continue
      }
      const admitted = await this.#admit(existing ? 'UPDATE' : 'CREATE', info, obj, existing)
      // Applied objects have names (normalize checked them), and admission keeps them.
      staged.push({ obj: admitted.object as KubeObject, info, warnings: admitted.warnings })
    }
    const results: ApplyResult[] = []
    for (const { obj, info, warnings, unchanged } of staged) {
      const action = unchanged ? 'unchanged' : this.#commit(obj, info)
      results.push({ ref: refOf(obj, info), action, ...(warnings.length ? { warnings } : {}) })
    }
    this.#derived.schedule()
    return results
  }

  /** Deletes objects (a Namespace takes everything in it along; a Deployment its pods). */
  async delete(refs: readonly ObjectRef[], opts: { ignoreNotFound?: boolean } = {}): Promise<ObjectRef[]> {
    this.#assertUp()
    const found: { obj: KubeObject; info: KindInfo }[] = []
    for (const ref of refs) {
      const info = kindByName(ref.kind)
      const obj = this.#store.find(info, info.namespaced ? (ref.namespace ?? 'default') : undefined, ref.name)
      if (!obj) {
        if (opts.ignoreNotFound) continue
        throw new LocalClusterError('MESH_ERR_LOCAL_NOT_FOUND', `${info.plural} "${ref.name}" not found`)
      }
      await this.#admit('DELETE', info, undefined, obj)
      found.push({ obj, info })
    }
    const deleted: ObjectRef[] = []
    const waits: Promise<void>[] = []
    for (const { obj, info } of found) {
      waits.push(this.#remove(obj, info))
      deleted.push(refOf(obj, info))
    }
    this.#derived.schedule()
    await Promise.all(waits)
    return deleted
  }

  /**
   * Objects of a kind (`pods`, `svc`, `VirtualService`…), with live status; all namespaces when
   * none is given; optionally only those whose labels match a selector (`app=reviews,version=v2`).
   */
  get(kind: string, namespace?: string, name?: string, selector?: string | LabelSelector): KubeObject[] {
    const info = kindByName(kind)
    const sel = typeof selector === 'string' ? parseSelector(selector) : selector
    const items = this.#store
      .list(info, info.namespaced ? namespace : undefined)
      .filter((o) => !name || o.metadata.name === name)
      .filter((o) => !sel || matchesSelector(sel, o.metadata.labels))
    return items.map((o) => this.#withStatus(o, info))
  }

  /** The log file of a container (default: the pod's default-container annotation, else its first). */
  logPath(namespace: string, pod: string, container?: string): string {
    const entry = this.#podEntry(namespace, pod)
    const name = container ?? defaultContainer(entry.runner.pod)
    const all = [...(entry.runner.pod.spec.initContainers ?? []), ...entry.runner.pod.spec.containers]
    if (!all.some((c) => c.name === name)) {
      throw new LocalClusterError(
        'MESH_ERR_LOCAL_NOT_FOUND',
        `container "${name}" is not valid for pod ${pod}; choose one of: ${all.map((c) => c.name).join(', ')}`,
      )
    }
    return `${podLogDir(this.runDir, namespace, pod)}/${name}.log`
  }

  logs(namespace: string, pod: string, container?: string): string {
    const path = this.logPath(namespace, pod, container)
    return existsSync(path) ? readFileSync(path, 'utf8') : ''
  }

  /** The ServiceAccount token issuer (its key made on first use, kept in the run dir). */
  #tokenIssuer(): ServiceAccountTokenIssuer {
    this.#tokens ??= new ServiceAccountTokenIssuer(runPaths(this.runDir).serviceAccountDir)
    return this.#tokens
  }

  /** How to run a command in a pod's container: its netns, uid/gid and environment. */
  execSpec(namespace: string, pod: string, container?: string): ExecSpec {
    const entry = this.#podEntry(namespace, pod)
    const name = container ?? defaultContainer(entry.runner.pod)
    // A native sidecar (a running init container) can be exec'd into too, as with kubectl.
    const state =
      entry.runner.containers.get(name) ??
      [...entry.runner.initContainers.values()].find((s) => s.sidecar && s.container.name === name)
    if (!state)
      throw new LocalClusterError(
        'MESH_ERR_LOCAL_NOT_FOUND',
        `container "${name}" of pod ${pod} is not running`,
      )
    return { netns: entry.runner.net?.netns, uid: state.uid, gid: state.gid, env: state.env }
  }

  /** Runs argv in a pod (as `kubectl exec`), collecting its output. */
  exec(
    namespace: string,
    pod: string,
    argv: string[],
    opts: { container?: string; input?: string; timeoutMs?: number } = {},
  ): Promise<ExecResult> {
    return execInPod(this.execSpec(namespace, pod, opts.container), argv, opts)
  }

  /** What is ready among the Deployments and Pods a wait would look at. */
  readiness(opts: Pick<WaitOptions, 'namespace' | 'selector'> = {}): ReadinessSummary {
    return summarizeReadiness(
      this.get('deployments', opts.namespace) as Deployment[],
      this.#pods,
      this.#controllers.deployments,
      this.#derived.unsynced,
      opts,
    )
  }

  /** Resolves when every matching Deployment and Pod is ready; throws MESH_ERR_LOCAL_TIMEOUT naming what is not. */
  async waitReady(opts: WaitOptions = {}): Promise<ReadinessSummary> {
    const timeoutMs = opts.timeoutMs ?? 120_000
    return new Promise((resolve, reject) => {
      let last = ''
      const check = () => {
        const s = this.readiness(opts)
        const text = JSON.stringify(s.items)
        if (text !== last) {
          last = text
          opts.onProgress?.(s)
        }
        if (s.ready) {
          finish()
          resolve(s)
        }
      }
      const timer = setTimeout(() => {
        finish()
        reject(notReadyError(this.readiness(opts), timeoutMs))
      }, timeoutMs)
      const poll = setInterval(check, 500)
      const finish = () => {
        clearTimeout(timer)
        clearInterval(poll)
        this.off('change', check)
      }
      this.on('change', check)
      check()
    })
  }

  /** The ingress gateway's URL from the host: its Service's ClusterIP and HTTP port. */
  gatewayUrl(name = 'minimesh-ingressgateway', namespace = 'minimesh-system'): string {
    const svc = this.#store.find(kindByName('service'), namespace, name) as Service | undefined
    if (!svc?.spec.clusterIP)
      throw new LocalClusterError('MESH_ERR_LOCAL_NOT_FOUND', `service ${namespace}/${name} not found`)
    return serviceUrl(svc)
  }

  /** The address the host has on the bridge (where meshd listens). */
  get hostIp(): string {
    return this.#network.gatewayIp
  }

  /** Stops every pod and removes everything the cluster made on the host. */
  async down(): Promise<string[]> {
    if (this.#down) return []
    this.#down = true
    this.#controllers.stop()
    await Promise.all([...this.#pods.values()].map((e) => e.runner.stop().catch(() => {})))
    this.#pods.clear()
    await this.#derived.settled()
    const done = await this.#network.teardown()
    const paths = runPaths(this.runDir)
    for (const dir of [paths.stateDir, paths.podsDir]) rmSync(dir, { recursive: true, force: true })
    rmSync(paths.clusterFile, { force: true })
    this.emit('down')
    this.log.info({ removed: done }, 'local cluster down')
    return done
  }

  // ---- admission and storage ------------------------------------------------------------------

  #assertUp(): void {
    if (this.#down) throw new LocalClusterError('MESH_ERR_LOCAL_NOT_RUNNING', 'the local cluster is down')
  }

  /** Every container's image has a local entrypoint (and tag); errors name `owner` (`Deployment ns/name`). */
  #webhookConfigs(kind: string): WebhookConfiguration[] {
    return this.#store.list(kindByName(kind)) as WebhookConfiguration[]
  }

  async #admit(op: Operation, info: KindInfo, object: NewObject | undefined, old: KubeObject | undefined) {
    const ref = (object ?? old)!
    const ns = info.namespaced ? ref.metadata.namespace : undefined
    const nsObj = ns ? this.#store.find(kindByName('namespace'), undefined, ns) : undefined
    const version = (ref.apiVersion.split('/')[1] ?? ref.apiVersion) || 'v1'
    return this.#admission.admit({
      operation: op,
      kind: info,
      version,
      object,
      oldObject: old,
      namespace: ns,
      name: ref.metadata.name ?? '',
      namespaceLabels: nsObj?.metadata.labels ?? (ns ? { 'kubernetes.io/metadata.name': ns } : undefined),
    })
  }

  #commit(obj: KubeObject, info: KindInfo): ApplyAction {
    if (info.kind === 'Service')
      assignClusterIp(
        obj as Service,
        this.#store.find(kindByName('service'), obj.metadata.namespace, obj.metadata.name) as
          | Service
          | undefined,
        this.#clusterIps,
        this.options.serviceCidr,
      )
    if (info.kind === 'Pod') return this.#createPod(obj as Pod)
    const { object, action } = this.#store.put(obj)
    if (action === 'unchanged') return action
    if (info.forMeshd) this.#state.write(object, info.namespaced)
    if (info.kind === 'Deployment') this.#controllers.reconcileDeployment(objectKey(object))
    if (info.kind === 'Job') this.#controllers.reconcileJob(objectKey(object))
    return action
  }

  async #remove(obj: KubeObject, info: KindInfo): Promise<void> {
    const key = objectKey(obj)
    if (info.kind === 'Pod') return this.#deletePod(key)
    if (info.kind === 'Namespace') {
      const inside = [...this.#allObjects()].filter(
        (o) => o.metadata.namespace === obj.metadata.name && kindOf(o).namespaced,
      )
      await Promise.all(inside.map((o) => this.#remove(o, kindOf(o))))
    }
    this.#store.delete(key)
    if (info.forMeshd) this.#state.remove(obj, info.namespaced)
    if (info.kind === 'Service') {
      const ip = (obj as Service).spec.clusterIP
      if (ip && ip !== 'None') this.#clusterIps.release(ip)
      const ep = this.#store.delete(keyOf(kindByName('endpoints'), obj.metadata.namespace, obj.metadata.name))
      if (ep) this.#state.remove(ep, true)
    }
    if (info.kind === 'Job' || info.kind === 'Deployment') await this.#controllers.forget(info.kind, key)
  }

  *#allObjects(): Iterable<KubeObject> {
    for (const info of KINDS.filter((k) => k.namespaced)) yield* this.#store.list(info)
  }

  #withStatus(o: KubeObject, info: KindInfo): KubeObject {
    return info.kind === 'Pod' ? withPodStatus(o, this.#pods.get(objectKey(o))) : o
  }

  #podEntry(namespace: string, pod: string): PodEntry {
    const e = this.#pods.get(keyOf(kindByName('pod'), namespace, pod))
    if (!e)
      throw new LocalClusterError(
        'MESH_ERR_LOCAL_NOT_FOUND',
        `pods "${pod}" not found in namespace "${namespace}"`,
      )
    return e
  }

  // ---- pods and deployments ---------------------------------------------------------------------

  #createPod(pod: NewPod, owner: { deployment?: string; hash?: string; job?: string } = {}): ApplyAction {
    const { deployment, hash, job } = owner
    const ns = pod.metadata.namespace ?? 'default'
    if (!pod.metadata.name) {
      let name: string
      do name = `${pod.metadata.generateName ?? 'pod-'}${nameSuffix()}`
      while (this.#pods.has(keyOf(kindByName('pod'), ns, name)))
      pod.metadata.name = name
    }
    pod.spec.serviceAccountName ??= pod.spec.serviceAccount ?? 'default'
    const existingKey = keyOf(kindByName('pod'), ns, pod.metadata.name)
    const existing = this.#pods.get(existingKey)
    if (existing && JSON.stringify(existing.runner.pod.spec) !== JSON.stringify(pod.spec)) {
      throw new LocalClusterError(
        'MESH_ERR_LOCAL_INVALID',
        `pod ${pod.metadata.name}: a running pod's spec cannot change; delete it and apply again`,
      )
    }
    const { object } = this.#store.put(pod as Pod) // named above
    if (existing) {
      existing.runner.pod.metadata = object.metadata
      return 'configured'
    }
    const runnerPod = object as Pod
    const runner = new PodRunner(runnerPod, {
      network: this.#network,
      images: this.options.images,
      log: this.log,
      logDir: podLogDir(this.runDir, ns, runnerPod.metadata.name),
      volumeDir: podVolumeDir(this.runDir, ns, runnerPod.metadata.name),
      stateDir: this.stateDir,
      // meshd keeps its CA in the run dir and checks pods' tokens with this cluster's public key;
      // this cluster runs native sidecars (as an API server ≥ 1.33 says by its version).
      controlPlaneArgs: [
        '--state-dir',
        runPaths(this.runDir).meshdStateDir,
        '--token-jwks',
        this.#tokenIssuer().jwksFile,
        '--native-sidecars',
        'true',
      ],
      controlPlaneDirs: [runPaths(this.runDir).meshdStateDir],
      onControlPlaneUser: (uid, gid) => this.#state.setSecretOwner(uid, gid),
      tokens: this.#tokenIssuer(),
      envSources: () => envSourcesFor(this.#store, ns, this.#network.gatewayIp),
      hooks: {
        onStart: (pid) =>
          this.#ledger.addProcess({
            pid,
            startTime: processStartTime(pid) ?? '',
            what: `${ns}/${runnerPod.metadata.name}`,
          }),
        onExit: (pid) => this.#ledger.removeProcess(pid),
      },
      onNetwork: (net) => {
        this.#network.writeEtcFile(net.netns, 'resolv.conf', renderResolvConf(ns, this.options.clusterDomain))
        this.#derived.writeHosts(runner)
      },
      onChange: () => {
        this.#derived.schedule()
        if (job) this.#controllers.reconcileJob(job)
        // A rollout in progress moves on as new pods become ready.
        if (
          deployment &&
          [...this.#pods.values()].some((e) => e.deployment === deployment && e.hash !== hash)
        )
          this.#controllers.reconcileDeployment(deployment)
      },
      maxGraceMs: this.options.maxGraceSeconds * 1000,
    })
    const entry: PodEntry = {
      runner,
      deployment,
      hash,
      ...(job ? { job } : {}),
      terminating: false,
      started: Promise.resolve(),
    }
    this.#pods.set(existingKey, entry)
    entry.started = runner.start()
    return 'created'
  }

  async #deletePod(key: string): Promise<void> {
    const e = this.#pods.get(key)
    if (!e) {
      this.#store.delete(key)
      return
    }
    if (e.terminating) return
    e.terminating = true
    this.#derived.schedule()
    await e.started.catch(() => {})
    await e.runner.stop().catch((err) => this.log.warn({ err }, 'pod stop failed'))
    this.#pods.delete(key)
    const obj = this.#store.delete(key)
    if (obj) this.#state.remove(obj, true)
    this.#derived.schedule()
    if (e.deployment && !this.#down) this.#controllers.reconcileDeployment(e.deployment)
    if (e.job && !this.#down) this.#controllers.reconcileJob(e.job)
  }
}

/** Starts a local cluster in this process (see LocalCluster.start). */
export function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  return LocalCluster.start(options)
}
