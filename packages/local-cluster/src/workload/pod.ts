// A pod's life on the host: its netns (or the host netns for the control plane), its volumes as
// directories, init containers run to completion in order, then the containers as processes with
// their probes. It reports every change so the cluster can keep Endpoints and the state dir current.
// Native sidecars as the kubelet runs them (KEP-753): an init container with `restartPolicy: Always`
// is started in its turn and the next one waits until it has started (postStart done, startupProbe
// passed); it keeps running (restarted whatever the pod's policy), counts for the pod's readiness,
// and is stopped after the containers, in reverse order, also when they complete (a Job's pod).
// postStart hooks hold the next container's start (a classic sidecar holding the app); preStop
// hooks run before SIGTERM.

import { spawn } from 'node:child_process'
import { chmodSync, chownSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { Container, LifecycleHandler, Pod, PodStatus, ProjectedSource } from '@minimesh/api/kube'
import type { Logger } from 'pino'
import { LocalClusterError } from '../errors.ts'
import { containerArgv, type ImageTable } from '../images.ts'
import type { Network, PodNetwork } from '../net/network.ts'
import { containerEnv, type EnvSources, expandVars, fieldValue, mapMountPaths } from './env.ts'
import { ProbeLoop, type ProbeTarget, runStartupProbe } from './probe.ts'
import { BACKOFF_CAP_MS, BACKOFF_START_MS, ContainerProcess, type ProcessHooks, wrapArgv } from './process.ts'
import type { ServiceAccountTokenIssuer } from './service-account-tokens.ts'

export interface PodDeps {
  network: Network
  images: ImageTable
  log: Logger
  /** Directory for this pod's container logs: <dir>/<container>.log. */
  logDir: string
  /** Directory for this pod's volumes: <dir>/<volume>/. */
  volumeDir: string
  /** meshd's state dir, added as `--config-dir` for the control-plane image. */
  stateDir: string
  /** More flags for the control-plane image (its CA's state dir, the token keys). */
  controlPlaneArgs?: string[]
  /** Directories the control plane writes (its state dir): made and given to its user. */
  controlPlaneDirs?: string[]
  /** Told the control plane's user before it starts (what only it may read is given to it). */
  onControlPlaneUser?: (uid: number, gid: number) => void
  /** Signs projected ServiceAccount tokens; without it such volumes fail the pod. */
  tokens?: ServiceAccountTokenIssuer
  envSources: () => EnvSources
  hooks: ProcessHooks
  /** Called after the pod's netns exists and before anything runs in it (writes its hosts file). */
  onNetwork: (net: PodNetwork) => void
  onChange: () => void
  /** Upper bound on the termination grace period (keeps `down` quick). */
  maxGraceMs: number
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed'

export interface ContainerRunState {
  container: Container
  uid: number
  gid: number
  env: Record<string, string>
  proc?: ContainerProcess
  ready: boolean
  /** postStart done and the startupProbe (if any) passed. */
  started?: boolean
  /** A native sidecar (init container with restartPolicy Always). */
  sidecar?: boolean
  readiness?: ProbeLoop
  liveness?: ProbeLoop
}

/** An init container that keeps running beside the containers (Kubernetes' sidecar containers). */
function isSidecar(c: Container): boolean {
  return c.restartPolicy === 'Always'
}

export class PodRunner {
  readonly pod: Pod
  phase: PodPhase = 'Pending'
  message?: string
  net?: PodNetwork
  hostNetwork = false
  podIp?: string
  readonly containers = new Map<string, ContainerRunState>()
  readonly initContainers = new Map<string, ContainerRunState>()
  #stopping = false
  #finishing = false
  readonly #tokenTimers = new Set<NodeJS.Timeout>()
  readonly #d: PodDeps
  readonly #log: Logger

  constructor(pod: Pod, deps: PodDeps) {
    this.pod = pod
    this.#d = deps
    this.#log = deps.log.child({ pod: `${pod.metadata.namespace}/${pod.metadata.name}` })
  }

  get ready(): boolean {
    return (
      this.phase === 'Running' &&
      this.containers.size > 0 &&
      [...this.containers.values(), ...this.#sidecars()].every((c) => c.ready)
    )
  }

  #sidecars(): ContainerRunState[] {
    return [...this.initContainers.values()].filter((s) => s.sidecar)
  }

  /** Throws MESH_ERR_LOCAL_IMAGE at once when a container's image has no local entrypoint. */
  checkImages(): void {
    for (const c of [...(this.pod.spec.initContainers ?? []), ...this.pod.spec.containers])
      containerArgv(this.#d.images, c)
  }

  #ids(c: Container): { uid: number; gid: number } {
    const sc = { ...(this.pod.spec.securityContext ?? {}), ...(c.securityContext ?? {}) }
    const uid = sc.runAsUser ?? 0
    return { uid, gid: sc.runAsGroup ?? uid }
  }

  #volumes(): { name: string; hostPath: string }[] {
    const out: { name: string; hostPath: string }[] = []
    const ns = this.pod.metadata.namespace ?? 'default'
    const src = this.#d.envSources()
    for (const v of this.pod.spec.volumes ?? []) {
      const dir = join(this.#d.volumeDir, v.name)
      mkdirSync(dir, { recursive: true, mode: 0o755 })
      const data = v.secret
        ? src.secret(ns, v.secret.secretName)
        : v.configMap
          ? src.configMap(ns, v.configMap.name)
          : undefined
      if ((v.secret || v.configMap) && !data && !(v.secret?.optional || v.configMap?.optional)) {
        throw new LocalClusterError(
          'MESH_ERR_LOCAL_NOT_FOUND',
          `volume "${v.name}": ${v.secret ? `secret "${v.secret.secretName}"` : `configmap "${v.configMap?.name}"`} not found`,
        )
      }
      const items = v.secret?.items ?? v.configMap?.items
      for (const [key, value] of Object.entries(data ?? {})) {
        const path = items ? items.find((i) => i.key === key)?.path : key
        if (path) writeFileSync(join(dir, path), value, { mode: 0o644 })
      }
      if (v.projected) this.#projected(v.name, v.projected.sources ?? [], dir, ns)
      // An emptyDir is writable by whichever user the containers run as.
      if (v.emptyDir) chmodSync(dir, 0o1777)
      out.push({ name: v.name, hostPath: dir })
    }
    return out
  }

  /**
   * A projected volume: ServiceAccount tokens (refreshed at 80% of their life, as the kubelet
   * does), configMap and secret keys, downward API fields, each at its path.
   */
  #projected(volume: string, sources: ProjectedSource[], dir: string, ns: string): void {
    const src = this.#d.envSources()
    const put = (path: string, text: string) => {
      const file = join(dir, path)
      mkdirSync(dirname(file), { recursive: true })
      const tmp = `${file}.tmp`
      writeFileSync(tmp, text, { mode: 0o644 })
      renameSync(tmp, file)
    }
    for (const s of sources) {
      if (s.serviceAccountToken) {
        const t = s.serviceAccountToken
        const tokens = this.#d.tokens
        if (!tokens)
          throw new LocalClusterError(
            'MESH_ERR_LOCAL_INVALID',
            `volume "${volume}": no token issuer for serviceAccountToken`,
          )
        const meta = this.pod.metadata
        const request = {
          namespace: ns,
          serviceAccount: this.pod.spec.serviceAccountName ?? this.pod.spec.serviceAccount ?? 'default',
          pod: { name: meta.name ?? '', uid: meta.uid ?? '' },
          audience: t.audience ?? 'https://kubernetes.default.svc.cluster.local',
          expirationSeconds: t.expirationSeconds ?? 3600,
        }
        const refresh = () => {
          if (this.#stopping) return
          const now = Date.now()
          const { token, expiresAt } = tokens.issue(request, now)
          put(t.path, token)
          const timer = setTimeout(
            () => {
              this.#tokenTimers.delete(timer)
              refresh()
            },
            (expiresAt - now) * 0.8,
          )
          timer.unref()
          this.#tokenTimers.add(timer)
        }
        refresh()
      } else if (s.configMap || s.secret) {
        const ref = (s.configMap ?? s.secret)!
        const data = s.configMap ? src.configMap(ns, ref.name) : src.secret(ns, ref.name)
        if (!data && !ref.optional)
          throw new LocalClusterError(
            'MESH_ERR_LOCAL_NOT_FOUND',
            `volume "${volume}": ${s.configMap ? 'configmap' : 'secret'} "${ref.name}" not found`,
          )
        for (const [key, value] of Object.entries(data ?? {})) {
          const path = ref.items ? ref.items.find((i) => i.key === key)?.path : key
          if (path) put(path, value)
        }
      } else if (s.downwardAPI) {
        for (const item of s.downwardAPI.items ?? [])
          if (item.fieldRef)
            put(item.path, fieldValue(this.pod, item.fieldRef.fieldPath, this.#d.network.gatewayIp))
      }
    }
  }

  #prepare(
    c: Container,
    volumes: { name: string; hostPath: string }[],
  ): ContainerRunState & { argv: string[] } {
    const { uid, gid } = this.#ids(c)
    const mounts = (c.volumeMounts ?? []).map((m) => {
      const v = volumes.find((x) => x.name === m.name)
      if (!v)
        throw new LocalClusterError(
          'MESH_ERR_LOCAL_INVALID',
          `container "${c.name}": volumeMount "${m.name}" has no volume`,
        )
      return { mountPath: m.mountPath, hostPath: m.subPath ? join(v.hostPath, m.subPath) : v.hostPath }
    })
    const env = containerEnv(this.pod, c, this.#d.envSources(), uid)
    for (const [k, v] of Object.entries(env)) env[k] = mapMountPaths(v, mounts)
    const { argv: raw, entry, fromImage } = containerArgv(this.#d.images, c)
    // Only what the spec wrote (command, args) names paths inside the container.
    const argv = raw.map((a, i) => (i < fromImage ? a : mapMountPaths(expandVars(a, env), mounts)))
    if (entry.controlPlane) {
      argv.push('--config-dir', this.#d.stateDir, ...(this.#d.controlPlaneArgs ?? []))
      for (const d of this.#d.controlPlaneDirs ?? []) {
        mkdirSync(d, { recursive: true, mode: 0o700 })
        chownSync(d, uid, gid)
      }
      this.#d.onControlPlaneUser?.(uid, gid)
    }
    return { container: c, uid, gid, env, ready: false, argv }
  }

  #process(
    c: Container,
    prepared: { argv: string[]; uid: number; gid: number; env: Record<string, string> },
  ): ContainerProcess {
    return new ContainerProcess(
      {
        name: c.name,
        argv: prepared.argv,
        env: prepared.env,
        uid: prepared.uid,
        gid: prepared.gid,
        netns: this.net?.netns,
        logFile: join(this.#d.logDir, `${c.name}.log`),
        cwd: c.workingDir,
      },
      this.#log,
      this.#d.hooks,
    )
  }

  /** Brings the pod up; resolves once its containers have started (not when they are ready). */
  async start(): Promise<void> {
    try {
      const wantsHost =
        this.pod.spec.hostNetwork === true ||
        this.pod.spec.containers.some((c) => containerArgv(this.#d.images, c).entry.controlPlane)
      if (wantsHost) {
        this.hostNetwork = true
        this.podIp = this.#d.network.gatewayIp
      } else {
        this.net = await this.#d.network.addPod(
          this.pod.metadata.namespace ?? 'default',
          this.pod.metadata.name,
        )
        this.podIp = this.net.ip
        this.#d.onNetwork(this.net)
      }
      this.pod.status = { ...(this.pod.status ?? {}), podIP: this.podIp }
      this.#d.onChange()
      const volumes = this.#volumes()
      for (const c of this.pod.spec.initContainers ?? []) {
        if (this.#stopping) return
        const prepared = this.#prepare(c, volumes)
        if (isSidecar(c)) {
          // Started in its turn; the next init container waits until it has started.
          const state: ContainerRunState = { ...prepared, proc: this.#process(c, prepared), sidecar: true }
          this.initContainers.set(c.name, state)
          await this.#startContainer(state)
          while (!state.started && !this.#stopping) await new Promise((r) => setTimeout(r, 50))
          continue
        }
        const state: ContainerRunState = { ...prepared }
        this.initContainers.set(c.name, state)
        await this.#runInit(c, prepared, state)
      }
      if (this.#stopping) return
      for (const c of this.pod.spec.containers) {
        const prepared = this.#prepare(c, volumes)
        const state: ContainerRunState = { ...prepared, proc: this.#process(c, prepared) }
        this.containers.set(c.name, state)
      }
      this.phase = 'Running'
      // In order, each after the previous one's postStart hook has returned (as the kubelet does).
      for (const state of this.containers.values()) {
        if (this.#stopping) return
        await this.#startContainer(state)
      }
      this.#d.onChange()
    } catch (err) {
      this.phase = 'Failed'
      this.message = (err as Error).message
      this.#log.error({ err }, 'pod failed to start')
      this.#d.onChange()
    }
  }

  async #runInit(
    c: Container,
    prepared: { argv: string[]; uid: number; gid: number; env: Record<string, string> },
    state: ContainerRunState,
  ): Promise<void> {
    let backoff = BACKOFF_START_MS
    for (;;) {
      const proc = this.#process(c, prepared)
      state.proc = proc
      const { code, signal } = await proc.runToCompletion()
      if (code === 0) return
      if (this.#stopping) return
      const why = `init container "${c.name}" exited with ${code ?? signal}; see its log`
      if (this.pod.spec.restartPolicy === 'Never') throw new LocalClusterError('MESH_ERR_LOCAL_EXEC', why)
      this.message = why
      this.#d.onChange()
      await new Promise((r) => setTimeout(r, backoff))
      backoff = Math.min(backoff * 2, BACKOFF_CAP_MS)
      if (this.#stopping) return
    }
  }

  /** Starts a container; resolves once its postStart hook has returned. */
  async #startContainer(state: ContainerRunState): Promise<void> {
    const c = state.container
    const target: ProbeTarget = {
      podIp: this.podIp!,
      netns: this.net?.netns,
      container: c,
      uid: state.uid,
      gid: state.gid,
      env: state.env,
    }
    const setReady = (ok: boolean) => {
      if (state.ready === ok) return
      state.ready = ok
      this.#d.onChange()
    }
    // Readiness and liveness probes begin once the container has started (startupProbe passed).
    const probe = () => {
      if (c.readinessProbe) {
        state.readiness ??= new ProbeLoop(c.readinessProbe, target, setReady)
        state.readiness.start(false)
      } else setReady(true)
      if (c.livenessProbe) {
        state.liveness ??= new ProbeLoop(c.livenessProbe, target, (ok) => {
          if (!ok) {
            this.#log.warn({ container: c.name }, 'liveness probe failed; restarting the container')
            state.proc?.restartNow()
          }
        })
        state.liveness.start(true)
      }
    }
    const startup = async () => {
      if (!c.startupProbe) return true
      for (;;) {
        const ok = await runStartupProbe(c.startupProbe, target, () => this.#stopping)
        if (ok || this.#stopping) return ok
        this.#log.warn({ container: c.name }, 'startup probe failed; restarting the container')
        state.proc?.restartNow()
      }
    }
    // A native sidecar is restarted whatever the pod's restartPolicy says.
    const policy = state.sidecar ? 'Always' : (this.pod.spec.restartPolicy ?? 'Always')
    state.proc!.keepRunning(policy, () => {
      state.readiness?.reset(false)
      state.liveness?.reset(true)
      if (c.readinessProbe) setReady(false)
      if (!state.sidecar && policy !== 'Always') this.#checkDone()
      this.#d.onChange()
    })
    if (c.lifecycle?.postStart) {
      const ok = await this.#hook(state, 'postStart', c.lifecycle.postStart)
      if (!ok && !this.#stopping) {
        this.#log.warn({ container: c.name }, 'postStart hook failed; restarting the container')
        state.proc?.restartNow()
      }
    }
    void startup().then((ok) => {
      if (!ok || this.#stopping) return
      state.started = true
      probe()
      this.#d.onChange()
    })
  }

  /**
   * Runs a lifecycle hook in the container (its netns, user and env; the image's binaries as for
   * its command): exec, or sleep. Output goes to the container's log. True when it succeeded.
   */
  #hook(state: ContainerRunState, which: string, h: LifecycleHandler): Promise<boolean> {
    if (h.sleep) return new Promise((r) => setTimeout(() => r(true), h.sleep!.seconds * 1000))
    if (!h.exec?.command?.length) {
      this.#log.warn(
        { container: state.container.name, hook: which },
        'hook kind not supported here; skipped',
      )
      return Promise.resolve(true)
    }
    let argv: string[]
    try {
      argv = containerArgv(this.#d.images, { ...state.container, command: h.exec.command, args: [] }).argv
    } catch {
      argv = h.exec.command
    }
    const [cmd, ...args] = wrapArgv({ argv, uid: state.uid, gid: state.gid, netns: this.net?.netns })
    const file = join(this.#d.logDir, `${state.container.name}.log`)
    mkdirSync(this.#d.logDir, { recursive: true })
    return new Promise((resolve) => {
      const child = spawn(cmd!, args, { env: state.env, stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      const keep = (d: Buffer) => {
        out = (out + d.toString()).slice(-4000)
      }
      child.stdout.on('data', keep)
      child.stderr.on('data', keep)
      child.on('error', () => resolve(false))
      child.on('exit', (code) => {
        if (code !== 0) {
          try {
            writeFileSync(file, `${which} hook exited with ${code}: ${out}\n`, { flag: 'a' })
          } catch {}
        }
        resolve(code === 0)
      })
    })
  }

  /**
   * With restartPolicy Never or OnFailure: once every container has exited for good, the pod is
   * done; its native sidecars are then stopped (reverse order) and the phase set from the
   * containers' exit codes (a Job's pod completes although its proxy would run forever).
   */
  #checkDone(): void {
    const all = [...this.containers.values()]
    const onFailure = this.pod.spec.restartPolicy === 'OnFailure'
    const over = (s: ContainerRunState) =>
      s.proc?.state === 'terminated' && (!onFailure || s.proc.lastExit?.code === 0)
    if (this.#finishing || !all.every(over)) return
    this.#finishing = true
    const phase = all.every((s) => s.proc?.lastExit?.code === 0) ? 'Succeeded' : 'Failed'
    void this.#stopSidecars(this.#graceMs()).then(() => {
      this.phase = phase
      this.#d.onChange()
    })
  }

  #graceMs(): number {
    return Math.min((this.pod.spec.terminationGracePeriodSeconds ?? 30) * 1000, this.#d.maxGraceMs)
  }

  /** SIGTERM to the native sidecars one at a time, last started first. */
  async #stopSidecars(graceMs: number): Promise<void> {
    const until = Date.now() + graceMs
    for (const s of this.#sidecars().reverse()) {
      s.readiness?.stop()
      s.liveness?.stop()
      s.ready = false
      await s.proc?.stop(Math.max(until - Date.now(), 100))
    }
  }

  /** preStop hooks (bounded by the grace period), then SIGTERM; SIGKILL when the grace period ends. */
  async #stopAll(states: ContainerRunState[], until: number): Promise<void> {
    await Promise.all(
      states.map(async (s) => {
        const pre = s.container.lifecycle?.preStop
        if (pre && s.proc?.state === 'running')
          await Promise.race([
            this.#hook(s, 'preStop', pre),
            new Promise((r) => setTimeout(r, Math.max(until - Date.now(), 0))),
          ])
        await s.proc?.stop(Math.max(until - Date.now(), 100))
      }),
    )
  }

  /** Stops every process (grace period from the spec, capped), then removes the netns and volumes. */
  async stop(): Promise<void> {
    this.#stopping = true
    for (const t of this.#tokenTimers) clearTimeout(t)
    this.#tokenTimers.clear()
    const grace = this.#graceMs()
    const until = Date.now() + grace
    const all = [...this.containers.values(), ...this.initContainers.values()]
    for (const s of all) {
      s.readiness?.stop()
      s.liveness?.stop()
      s.ready = false
    }
    // The containers first (a classic proxy among them drains meanwhile), then the native
    // sidecars in reverse order, then whatever init container is still running.
    await this.#stopAll([...this.containers.values()], until)
    await this.#stopSidecars(Math.max(until - Date.now(), 100))
    await Promise.all(
      [...this.initContainers.values()].map((s) => s.proc?.stop(Math.max(until - Date.now(), 100))),
    )
    if (this.net) await this.#d.network.removePod(this.net)
    rmSync(this.#d.volumeDir, { recursive: true, force: true })
  }

  /** The pod's status as the API server would show it. */
  status(): PodStatus {
    const cs = (m: Map<string, ContainerRunState>) =>
      [...m.values()].map((s) => {
        const p = s.proc
        const state =
          p?.state === 'running'
            ? { running: { startedAt: p.startedAt } }
            : p?.state === 'terminated'
              ? {
                  terminated: {
                    exitCode: p.lastExit?.code ?? -1,
                    signal: p.lastExit?.signal ?? undefined,
                    finishedAt: p.lastExit?.at,
                  },
                }
              : { waiting: { reason: 'PodInitializing' } }
        return {
          name: s.container.name,
          image: s.container.image,
          ready: s.ready,
          restartCount: p?.restartCount ?? 0,
          started: p?.state === 'running' && (s.started ?? !s.container.startupProbe),
          state,
        }
      })
    return {
      phase: this.phase,
      ...(this.message ? { message: this.message } : {}),
      hostIP: this.#d.network.gatewayIp,
      ...(this.podIp ? { podIP: this.podIp, podIPs: [{ ip: this.podIp }] } : {}),
      conditions: [
        {
          type: 'Initialized',
          status: this.phase !== 'Pending' || this.containers.size > 0 ? 'True' : 'False',
        },
        { type: 'Ready', status: this.ready ? 'True' : 'False' },
        { type: 'ContainersReady', status: this.ready ? 'True' : 'False' },
      ],
      initContainerStatuses: cs(this.initContainers),
      containerStatuses: cs(this.containers),
    }
  }
}
