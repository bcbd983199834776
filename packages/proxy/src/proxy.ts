// startProxy: wires the configuration store (fed by the discovery client or a static file), the
// listeners, the admin/metrics/health servers, and graceful draining.
import type { Server } from 'node:http'
import type { Node } from '@minimesh/api'
import { formatNodeId } from '@minimesh/api/config'
import {
  PROXY_ADMIN_PORT,
  PROXY_HEALTH_PORT,
  PROXY_PROMETHEUS_PORT,
  PROXY_STATUS_PORT,
} from '@minimesh/api/ports'
import pino, { type Logger } from 'pino'
import { AccessLog, type LogSink } from './admin/access-log.ts'
import { adminHandlers, healthHandlers, metricsHandlers, prometheusHandlers, serve } from './admin/admin.ts'
import { type AppProber, appProbeHandlers } from './admin/app-probes.ts'
import { ProxyMetrics } from './admin/metrics.ts'
import { XdsConfigStore } from './config/store.ts'
import type { StaticConfig } from './config/validate.ts'
import { encodePeer, type ProxyContext, type WorkloadIdentity } from './context.ts'
import type { CertificateAuthorityClient } from './identity/ca-client.ts'
import { CertificateStore } from './identity/certificates.ts'
import type { CertificateRotator } from './identity/rotation.ts'
import type { OriginalDestinationFn } from './listeners/conn.ts'
import { ListenerManager } from './listeners/manager.ts'
import { defaultOriginalDestination } from './listeners/original-destination.ts'
import type { InboundPolicy } from './policy.ts'
import type { TracingOptions } from './tracing/tracer.ts'
import type { XdsClient } from './xds/client.ts'

export type ProxyMode = 'sidecar' | 'router'

/** meshd's CA: where this workload's certificate comes from (see identity/). */
export interface CaOptions {
  /** `host:port` of the certificate service (meshd's 15012). */
  address: string
  /** Mesh roots (PEM): the CA's serving certificate and mesh peers are verified against these. */
  rootsPem: string
  /** The projected ServiceAccount token (default /var/run/secrets/tokens/minimesh-token). */
  tokenFile?: string
  /** Requested certificate lifetime in seconds (0 or absent: the CA's default, 24 h). */
  ttlSeconds?: number
  /** Retry backoff after a failed request (defaults 1 s doubling up to 60 s). */
  initialBackoffMs?: number
  maxBackoffMs?: number
  /** Another source of certificates than the gRPC client (tests). */
  client?: CertificateAuthorityClient
}

export interface ProxyOptions {
  mode?: ProxyMode
  /** `host:port` of meshd's discovery service; omit for static configuration. */
  discoveryAddress?: string
  /** Static configuration: the object, or a YAML/JSON file path. */
  config?: StaticConfig | string
  identity?: Partial<WorkloadIdentity>
  /** This workload's mesh certificate holder (a CSR client fills it); default: an empty one. */
  certificates?: CertificateStore
  /**
   * meshd's CA: the first certificate is requested at start and renewed at half life into
   * `ctx.certs`; the proxy is ready only once it is in. Absent: no certificate (plaintext mesh).
   */
  ca?: CaOptions
  /** Mesh roots (PEM) to verify meshd's certificate: discovery goes over TLS (15012); absent = plaintext. */
  discoveryRootsPem?: string
  /** Extra node metadata sent to the control plane. */
  metadata?: Record<string, string>
  /**
   * Admin, status (scraped Prometheus metrics, app probes), readiness and the proxy's own Prometheus
   * ports (defaults in @minimesh/api/ports); 0 = any free port; null = off.
   */
  adminPort?: number | null
  statsPort?: number | null
  healthPort?: number | null
  promPort?: number | null
  /** Admin binds here (127.0.0.1: never reachable from outside the pod). */
  adminAddress?: string
  /** Bind every listener here instead of its configured address. */
  bindAddress?: string
  /** Configured listener port → port actually bound (e.g. the capture ports → the pod's, 8080 → 18080). */
  portMap?: Record<number, number>
  /** How a captured connection's original destination is found (default: SO_ORIGINAL_DST). */
  originalDestination?: OriginalDestinationFn
  /** Kubelet probes the injector moved to /app-health/… on the status port (MESH_KUBE_APP_PROBERS). */
  appProbers?: Record<string, AppProber>
  /** Spans to a Zipkin or OTLP collector and trace-header propagation; omit for none. */
  tracing?: TracingOptions
  /** Server-side policy hook on inbound requests (quota, authorization). */
  inboundPolicy?: InboundPolicy
  /** Access log sink; 'off' disables it (default: off in the library, stdout in mesh-proxy). */
  accessLog?: LogSink | 'off'
  /** Keep this many access-log entries in memory (`proxy.accessLog.recent`). */
  accessLogKeep?: number
  logger?: Logger
  /** Largest request head accepted, bytes (Envoy's default: 60 KiB). */
  maxHeaderSize?: number
  /** How long draining waits for in-flight requests before closing connections. */
  drainTimeoutMs?: number
  /**
   * POST /quitquitquit (admin on 127.0.0.1, and the status port from the pod's loopback only) calls
   * this: a Job's main container tells a classic sidecar that it is done (Envoy's and pilot-agent's
   * endpoint). Without it the endpoint is not served.
   */
  onQuit?: () => void
  xdsInitialBackoffMs?: number
  xdsMaxBackoffMs?: number
  /**
   * How often the TLS files of clusters that originate TLS are re-read, so a rotated certificate
   * (a Secret volume updated in place) is used without a configuration change; 0 = never.
   */
  tlsReloadIntervalMs?: number
}

export interface RunningProxy {
  readonly ctx: ProxyContext
  readonly store: XdsConfigStore
  readonly xds: XdsClient | undefined
  /** Renews the workload certificate (when a CA is configured). */
  readonly certificates: CertificateRotator | undefined
  readonly accessLog: AccessLog
  readonly node: Node
  ports: {
    admin?: number
    stats?: number
    health?: number
    prometheus?: number
    readonly listeners: Record<string, number>
  }
  /** Resolves once a configuration is in and its listeners are bound. */
  whenReady(): Promise<void>
  /** Replaces the static configuration (validated; a bad one throws and changes nothing). */
  reload(config: StaticConfig): Promise<void>
  /**
   * Stops accepting, lets in-flight requests finish (up to the deadline), then closes everything.
   * With `sidecar`, Istio's sidecar drain instead: not ready at once; inbound connections still
   * accepted for `minMs` (with `Connection: close`), then refused; the app's outbound calls keep
   * being served until, after at least `minMs`, the app has no connection open and nothing is in
   * flight (the app has exited or finished), or until `timeoutMs` (default: no limit; the kubelet's
   * grace period ends it).
   */
  drain(timeoutMs?: number, sidecar?: { minMs: number }): Promise<void>
  close(): Promise<void>
}

/** Re-reads clusters' TLS files every `intervalMs` (rotation); logs what was reloaded or refused. */
function watchTlsFiles(store: XdsConfigStore, log: Logger, intervalMs: number): NodeJS.Timeout | undefined {
  if (intervalMs <= 0) return undefined
  const timer = setInterval(() => {
    const { reloaded, failed } = store.reloadTlsFiles()
    if (reloaded.length > 0) log.info({ clusters: reloaded }, 'TLS files changed: clusters use the new ones')
    for (const f of failed)
      log.error(
        { cluster: f.cluster, reason: f.reason },
        'rotated TLS files refused; the cluster keeps the last good ones',
      )
  }, intervalMs)
  timer.unref()
  return timer
}

/** Starts the certificate rotation for this workload's SPIFFE id (the first request is under way). */
async function startCertificates(ca: CaOptions, ctx: ProxyContext): Promise<CertificateRotator> {
  const [{ CertificateRotator }, { grpcCaClient }, { spiffeIdOf }] = await Promise.all([
    import('./identity/rotation.ts'),
    import('./identity/ca-client.ts'),
    import('./identity/csr.ts'),
  ])
  const rotator = new CertificateRotator({
    store: ctx.certs,
    ca:
      ca.client ??
      grpcCaClient({
        address: ca.address,
        rootsPem: ca.rootsPem,
        ...(ca.tokenFile ? { tokenFile: ca.tokenFile } : {}),
      }),
    spiffeId: spiffeIdOf(ctx.identity.namespace, ctx.identity.serviceAccount),
    rootsPem: ca.rootsPem,
    log: ctx.log,
    ttlSeconds: ca.ttlSeconds ?? 0,
    ...(ca.initialBackoffMs !== undefined ? { initialBackoffMs: ca.initialBackoffMs } : {}),
    ...(ca.maxBackoffMs !== undefined ? { maxBackoffMs: ca.maxBackoffMs } : {}),
  })
  rotator.start()
  return rotator
}

function identityFrom(partial: Partial<WorkloadIdentity> | undefined): WorkloadIdentity {
  return {
    workload: partial?.workload ?? 'unknown',
    namespace: partial?.namespace ?? 'default',
    serviceAccount: partial?.serviceAccount ?? 'default',
    labels: partial?.labels ?? {},
    pod: partial?.pod ?? partial?.workload ?? 'unknown',
    ip: partial?.ip ?? '127.0.0.1',
  }
}

export async function startProxy(options: ProxyOptions = {}): Promise<RunningProxy> {
  const mode = options.mode ?? 'sidecar'
  const log = options.logger ?? pino({ name: 'mesh-proxy', level: 'info' }, pino.destination(2))
  const identity = identityFrom(options.identity)
  const certs = options.certificates ?? new CertificateStore()
  const store = new XdsConfigStore({ labels: identity.labels, namespace: identity.namespace }, certs)
  const accessLog = new AccessLog(
    options.accessLog === 'off' || options.accessLog === undefined ? undefined : options.accessLog,
    options.accessLogKeep ?? 0,
  )
  const metrics = new ProxyMetrics(store, certs)
  const ctx: ProxyContext = {
    store,
    identity,
    certs,
    certificateRequired: options.ca !== undefined,
    peerHeader: encodePeer(identity),
    inboundPolicy: options.inboundPolicy,
    metrics,
    accessLog,
    log,
    inflight: 0,
    draining: false,
  }
  const manager = new ListenerManager(ctx, {
    bindAddress: options.bindAddress,
    portMap: options.portMap ?? {},
    originalDestination: options.originalDestination ?? defaultOriginalDestination(log),
    maxHeaderSize: options.maxHeaderSize ?? 60 * 1024,
  })
  store.on('change', () => void manager.sync())
  const tlsReload = watchTlsFiles(store, log, options.tlsReloadIntervalMs ?? 10_000)
  const servers: Server[] = []
  const ports: RunningProxy['ports'] = {
    get listeners() {
      return manager.ports
    },
  }
  const node: Node = {
    id: formatNodeId(mode, identity.ip, identity.pod, identity.namespace),
    namespace: identity.namespace,
    service_account: identity.serviceAccount,
    workload_name: identity.workload,
    pod_name: identity.pod,
    ip_addresses: [identity.ip],
    labels: identity.labels,
    metadata: { proxy: 'minimesh', mode, ...options.metadata },
  }
  let certificates: CertificateRotator | undefined
  if (options.ca) {
    // Loaded on demand, as the discovery client: a proxy without a CA never loads @peculiar/x509.
    certificates = await startCertificates(options.ca, ctx)
    metrics.addSource({ metrics: () => certificates?.metrics() ?? '' })
  }
  if (options.tracing) {
    // Loaded only when tracing is on.
    const { Tracer } = await import('./tracing/tracer.ts')
    ctx.tracer = new Tracer(
      options.tracing,
      {
        serviceName: `${identity.labels.app ?? identity.workload}.${identity.namespace}`,
        ip: identity.ip,
        nodeId: node.id ?? identity.pod,
        canonicalService:
          identity.labels['service.istio.io/canonical-name'] ?? identity.labels.app ?? identity.workload,
        namespace: identity.namespace,
      },
      log,
    )
    metrics.addSource(ctx.tracer.exporter)
  }
  const adminHost = options.adminAddress ?? '127.0.0.1'
  const start = async (
    port: number | null | undefined,
    dflt: number,
    host: string,
    h: Parameters<typeof serve>[0],
  ) => {
    if (port === null) return undefined
    const s = await serve(h, host, port ?? dflt)
    servers.push(s.server)
    return s.port
  }
  ports.admin = await start(
    options.adminPort,
    PROXY_ADMIN_PORT,
    adminHost,
    adminHandlers(ctx, {
      ...(options.onQuit ? { quit: options.onQuit } : {}),
      node: { ...node },
      listenerPorts: () => manager.ports,
      rotation: () => certificates?.status,
    }),
  )
  ports.stats = await start(options.statsPort, PROXY_STATUS_PORT, '0.0.0.0', {
    ...metricsHandlers(ctx, options.onQuit),
    ...appProbeHandlers(options.appProbers ?? {}),
  })
  ports.health = await start(options.healthPort, PROXY_HEALTH_PORT, '0.0.0.0', healthHandlers(ctx))
  ports.prometheus = await start(options.promPort, PROXY_PROMETHEUS_PORT, '0.0.0.0', prometheusHandlers(ctx))

  let xds: XdsClient | undefined
  if (options.config !== undefined) {
    // Loaded on demand: a proxy reads a file or talks to meshd, never both (start-up memory).
    const cfg =
      typeof options.config === 'string'
        ? await (await import('./config/file.ts')).loadStaticConfig(options.config)
        : options.config
    store.applyStatic(cfg)
    await manager.sync()
  } else if (options.discoveryAddress) {
    const { XdsClient } = await import('./xds/client.ts')
    const credentials = options.discoveryRootsPem
      ? (await import('./identity/ca-client.ts')).meshChannelCredentials(options.discoveryRootsPem)
      : undefined
    xds = new XdsClient({
      address: options.discoveryAddress,
      ...(credentials ? { credentials } : {}),
      node,
      store,
      log,
      ...(options.xdsInitialBackoffMs !== undefined ? { initialBackoffMs: options.xdsInitialBackoffMs } : {}),
      ...(options.xdsMaxBackoffMs !== undefined ? { maxBackoffMs: options.xdsMaxBackoffMs } : {}),
    })
    xds.start()
  }

  let closed: Promise<void> | undefined
  const drainSidecar = async (minMs: number, timeoutMs = Number.POSITIVE_INFINITY): Promise<void> => {
    ctx.acceptOutboundWhileDraining = true
    ctx.acceptInboundWhileDraining = minMs > 0
    ctx.draining = true
    const started = Date.now()
    for (;;) {
      const elapsed = Date.now() - started
      if (elapsed >= minMs) ctx.acceptInboundWhileDraining = false
      if (elapsed >= timeoutMs) break
      if (elapsed >= minMs && ctx.inflight === 0 && manager.outboundConnections === 0) break
      await new Promise((r) => setTimeout(r, 50))
    }
    ctx.acceptOutboundWhileDraining = false
    ctx.acceptInboundWhileDraining = false
    log.info({ ms: Date.now() - started, inflight: ctx.inflight }, 'drain: the app is done, closing')
    await manager.stopAccepting()
    manager.closeIdle()
  }
  const drain = async (timeoutMs = options.drainTimeoutMs ?? 5000): Promise<void> => {
    ctx.draining = true
    await manager.stopAccepting()
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline && (ctx.inflight > 0 || manager.connections > 0)) {
      manager.closeIdle()
      if (ctx.inflight === 0) break
      await new Promise((r) => setTimeout(r, 25))
    }
    manager.closeIdle()
  }
  const close = (): Promise<void> => {
    closed ??= (async () => {
      ctx.draining = true
      if (tlsReload) clearInterval(tlsReload)
      xds?.close()
      certificates?.close()
      await manager.stopAccepting()
      manager.closeAll()
      accessLog.flush()
      await ctx.tracer?.close()
      await Promise.all(
        servers.map((s) => {
          s.closeAllConnections()
          return new Promise<void>((r) => s.close(() => r()))
        }),
      )
      await store.close(true)
    })()
    return closed
  }

  return {
    ctx,
    store,
    xds,
    certificates,
    accessLog,
    node,
    ports,
    async whenReady() {
      while (!store.ready) await new Promise((r) => setTimeout(r, 10))
      await certificates?.whenReady()
      await manager.sync()
    },
    async reload(config: StaticConfig) {
      store.applyStatic(config, `static-${Date.now()}`)
      await manager.sync()
    },
    async drain(timeoutMs?: number, sidecar?: { minMs: number }) {
      if (sidecar) await drainSidecar(sidecar.minMs, timeoutMs)
      else await drain(timeoutMs)
      await close()
    },
    close,
  }
}
