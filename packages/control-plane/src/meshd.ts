import type * as grpc from '@grpc/grpc-js'
import type { KubeConfig } from '@kubernetes/client-node'
import { formatFinding } from '@minimesh/api'
import type { InjectConfig } from '@minimesh/injector'
import { type Logger, pino } from 'pino'
import { type MeshCa, type MeshCaOptions, plaintextWithoutCa, startMeshCa } from './ca/index.ts'
import { Metrics } from './monitoring/metrics.ts'
import { createMonitoringServer, listenMonitoring, splitAddress } from './monitoring/server.ts'
import { type NativeSidecarsSetting, resolveNativeSidecars } from './sidecars.ts'
import { type ConfigSnapshot, SnapshotBuilder } from './snapshot.ts'
import { DirectorySource } from './sources/directory.ts'
import { KubernetesSource, loadKubeConfig } from './sources/kubernetes.ts'
import type { ConfigSource } from './sources/source.ts'
import { KubernetesStatusWriter } from './status/kubernetes.ts'
import { StatusReporter, type StatusWriter } from './status/reporter.ts'
import { ConfigStore } from './store.ts'
import { startWebhooks, type WebhookHandle } from './webhook.ts'
import { type DebounceBatch, type DebounceOptions, Debouncer } from './xds/debounce.ts'
import { DiscoveryServer, type DiscoveryServerOptions } from './xds/server.ts'

export interface MeshdOptions {
  /** Read configuration from this directory (watched). Without it (and without `source`): Kubernetes. */
  configDir?: string
  /** Kubernetes configuration; default KUBECONFIG, else ~/.kube/config, else in-cluster (kubectl's order). */
  kubeConfig?: KubeConfig
  /** Any other ConfigSource (wins over configDir and kubeConfig). */
  source?: ConfigSource
  /** Discovery gRPC `host:port`. Default 0.0.0.0:15010. */
  grpcAddress?: string
  /** Monitoring HTTP `host:port`. Default 0.0.0.0:15014. */
  monitoringAddress?: string
  /** Webhooks HTTPS `host:port`. Default 0.0.0.0:15017; served only with a certificate and key. */
  webhookAddress?: string
  webhookCert?: string
  webhookKey?: string
  logger?: Logger
  /** Level of the default logger (when no `logger` is given). Default info. */
  logLevel?: string
  debounce?: DebounceOptions
  discovery?: Omit<DiscoveryServerOptions, 'logger' | 'metrics'>
  /** Adds more services (the quota service) to the discovery gRPC server before it listens. */
  grpcServices?: (server: grpc.Server) => void
  /** Process metrics (CPU, RSS, …) on /metrics. Default true. */
  processMetrics?: boolean
  /**
   * The mesh CA and gRPC over TLS (15012: certificate, discovery and quota services). Absent: no
   * CA. Its kubeConfig defaults to meshd's when configuration comes from Kubernetes.
   */
  ca?: MeshCaOptions
  /** Injection settings for the webhook (meshd adds caRootCert from its CA). */
  injectConfig?: Partial<InjectConfig>
  /**
   * The injector's proxy placement: native sidecars or classic; `auto` (default) asks the API
   * server's version at start (sidecars.ts), classic without Kubernetes. An explicit
   * injectConfig.nativeSidecars wins.
   */
  nativeSidecars?: NativeSidecarsSetting
  /**
   * Where each mesh resource's outcome is written as its status. Default: the API server when the
   * configuration comes from Kubernetes, nowhere otherwise (the local cluster's meshctl asks
   * /debug/configz). `false`: never.
   */
  statusWriter?: StatusWriter | false
}

export interface Meshd {
  readonly addresses: { grpc: string; monitoring: string; webhook?: string; secureGrpc?: string }
  /** The mesh CA, when meshd runs one. */
  readonly ca: MeshCa | undefined
  /** The snapshot proxies are served from. */
  readonly snapshot: ConfigSnapshot | undefined
  readonly discovery: DiscoveryServer
  readonly metrics: Metrics
  readonly store: ConfigStore
  /** Writes resource status back, when meshd does (Kubernetes). */
  readonly status: StatusReporter | undefined
  /** Rebuilds and pushes now instead of after the debounce. */
  flush(): void
  /** Stops watching, closes every stream and server. */
  close(): Promise<void>
}

/**
 * Starts the control plane: a config source feeding a store; debounced (100 ms quiet, 10 s max)
 * immutable snapshots; the discovery server pushing per-proxy changes; the monitoring server;
 * the webhooks when the injector provides them. Rejects with a ControlPlaneError naming what is
 * wrong (address in use, no kubeconfig, unreadable directory); bad configuration never stops it.
 */
export async function startMeshd(options: MeshdOptions = {}): Promise<Meshd> {
  const log = options.logger ?? pino({ name: 'meshd', level: options.logLevel ?? 'info' })
  const grpcAddress = options.grpcAddress ?? '0.0.0.0:15010'
  const monitoringAddress = options.monitoringAddress ?? '0.0.0.0:15014'
  const webhookAddress = options.webhookAddress ?? '0.0.0.0:15017'
  for (const a of [grpcAddress, monitoringAddress, webhookAddress]) splitAddress(a)
  const secureGrpcAddress = options.ca ? (options.ca.address ?? '0.0.0.0:15012') : undefined
  if (secureGrpcAddress) splitAddress(secureGrpcAddress)
  const kubeConfig =
    options.source || options.configDir !== undefined ? undefined : (options.kubeConfig ?? loadKubeConfig())
  const source =
    options.source ??
    (kubeConfig
      ? new KubernetesSource(kubeConfig, { logger: log })
      : new DirectorySource(options.configDir!, { logger: log }))

  const metrics = new Metrics({ processMetrics: options.processMetrics })
  const store = new ConfigStore()
  const builder = new SnapshotBuilder()
  const discovery = new DiscoveryServer({ ...options.discovery, logger: log, metrics })
  const statusWriter =
    options.statusWriter === false
      ? undefined
      : (options.statusWriter ??
        (source instanceof KubernetesSource ? new KubernetesStatusWriter(source.kubeConfig) : undefined))
  const status = statusWriter ? new StatusReporter(statusWriter, store, { logger: log, metrics }) : undefined
  options.grpcServices?.(discovery.grpcServer)
  let snapshot: ConfigSnapshot | undefined
  let ready = false
  let sourceRead = false
  const rejectedSeen = new Set<string>()

  const rebuild = (batch?: DebounceBatch) => {
    const started = performance.now()
    let next: ConfigSnapshot
    try {
      next = builder.build(store)
    } catch (err) {
      // Never exit on configuration: keep serving the previous snapshot.
      log.error({ err }, 'snapshot: build failed; keeping the previous one')
      return
    }
    metrics.rebuild.observe((performance.now() - started) / 1000)
    metrics.snapshots.inc()
    snapshot = next
    reportRejections(next)
    discovery.setSnapshot(next, batch?.firstAt)
    // Not before the first full read: a snapshot of half the objects would write passing verdicts
    // (a route to a subset whose DestinationRule is not listed yet) that the next one takes back.
    if (sourceRead) status?.update(next)
    log.debug(
      { version: next.version, events: batch?.events, ms: performance.now() - started },
      'snapshot: built',
    )
  }

  const reportRejections = (s: ConfigSnapshot) => {
    const byKind = new Map<string, number>()
    const now = new Set<string>()
    for (const st of s.status) {
      if (st.state !== 'rejected') continue
      byKind.set(st.kind, (byKind.get(st.kind) ?? 0) + 1)
      const id = `${st.key}|${st.findings.map((f) => f.message).join('|')}`
      now.add(id)
      if (rejectedSeen.has(id)) continue
      metrics.rejections.inc({ kind: st.kind })
      log.warn(
        {
          object: st.key,
          origin: st.origin,
          servingPrevious: st.servingPrevious,
          findings: st.findings.map((f) => formatFinding(f)),
        },
        st.servingPrevious
          ? 'config: rejected; its previous good version keeps serving'
          : 'config: rejected; not served',
      )
    }
    rejectedSeen.clear()
    for (const id of now) rejectedSeen.add(id)
    metrics.configErrors.reset()
    for (const [kind, n] of byKind) metrics.configErrors.set({ kind }, n)
    for (const [origin, findings] of s.originProblems)
      log.warn({ origin, findings: findings.map((f) => formatFinding(f)) }, 'config: cannot read')
  }

  const debouncer = new Debouncer(options.debounce ?? {}, (batch) => rebuild(batch))
  const monitoring = createMonitoringServer({
    metrics,
    discovery,
    snapshot: () => snapshot,
    ready: () => ready,
    source: source.description,
    logger: log,
  })

  const closers: (() => Promise<void>)[] = []
  const closeAll = async () => {
    debouncer.discard()
    for (const c of closers.reverse()) await c().catch((err) => log.warn({ err }, 'meshd: close failed'))
    closers.length = 0
  }
  try {
    let meshCa: MeshCa | undefined
    if (options.ca) {
      meshCa = await startMeshCa(
        { ...options.ca, kubeConfig: options.ca.kubeConfig ?? kubeConfig },
        { server: discovery.grpcServer, store, metrics, logger: log },
      )
      closers.push(async () => meshCa?.close())
    }
    const grpcBound = await discovery.listen(grpcAddress, meshCa ? plaintextWithoutCa(metrics) : undefined)
    closers.push(() => discovery.close())
    const secureGrpcBound =
      meshCa && secureGrpcAddress
        ? await discovery.listen(secureGrpcAddress, meshCa.serving.credentials())
        : undefined
    const monitoringBound = await listenMonitoring(monitoring, monitoringAddress)
    closers.push(() => monitoring.close())
    const nativeSidecars =
      options.injectConfig?.nativeSidecars ??
      (options.webhookCert
        ? await resolveNativeSidecars(
            options.nativeSidecars ?? 'auto',
            kubeConfig ?? options.ca?.kubeConfig,
            log,
          )
        : false)
    let webhook: WebhookHandle | undefined = await startWebhooks({
      address: webhookAddress,
      certFile: options.webhookCert,
      keyFile: options.webhookKey,
      injectConfig: {
        ...options.injectConfig,
        nativeSidecars,
        ...(meshCa ? { caRootCert: meshCa.rootsPem } : {}),
      },
      // No namespace lookup: the webhook configuration's namespaceSelector already chose the
      // namespace (the API server evaluates it before calling), and meshd's registry may not yet
      // have seen a label that was just added, which would skip injection for a labelled namespace.
      logger: log,
    })
    if (webhook) closers.push(() => webhook!.close())
    const unsubscribe = store.onChange(() => debouncer.trigger())
    closers.push(async () => unsubscribe())
    if (status) {
      // A status-only update (meshd's own write read back): compared, never a rebuild.
      const unsubscribeStatus = store.onStatusChange((key) => status.recheck(key))
      closers.push(async () => {
        unsubscribeStatus()
        status.close()
      })
    }
    log.info({ source: source.description }, 'meshd: reading configuration')
    await source.start(store)
    closers.push(() => source.close())
    debouncer.discard()
    sourceRead = true
    rebuild()
    ready = true
    log.info(
      {
        grpc: grpcBound,
        secureGrpc: secureGrpcBound,
        monitoring: monitoringBound,
        webhook: webhook?.address,
        objects: store.size,
        snapshot: snapshot?.version,
      },
      'meshd: ready',
    )
    return {
      addresses: {
        grpc: grpcBound,
        monitoring: monitoringBound,
        ...(webhook ? { webhook: webhook.address } : {}),
        ...(secureGrpcBound ? { secureGrpc: secureGrpcBound } : {}),
      },
      ca: meshCa,
      get snapshot() {
        return snapshot
      },
      discovery,
      metrics,
      store,
      status,
      flush: () => debouncer.flush(),
      async close() {
        ready = false
        await closeAll()
        webhook = undefined
      },
    }
  } catch (err) {
    await closeAll()
    throw err
  }
}
