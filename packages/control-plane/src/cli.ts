// meshd: the minimesh control plane. Thin command line over startMeshd() (main.ts launches it).
import { parseArgs } from 'node:util'
import { parseDuration } from '@minimesh/api'
import { pino } from 'pino'
import { ControlPlaneError } from './errors.ts'
import { startMeshd } from './meshd.ts'
import { addQuotaService, MemoryQuotaBackend, RedisQuotaBackend } from './quota/index.ts'

const USAGE = `Usage: meshd [flags]

Serves proxy configuration (discovery gRPC), monitoring and debug pages, and the webhooks.
Configuration comes from --config-dir DIR (watched), or else from Kubernetes (in-cluster, KUBECONFIG
or ~/.kube/config).

Flags:
  --config-dir DIR            read configuration from the YAML/JSON files below DIR
  --grpc-address HOST:PORT    discovery gRPC, plaintext (default 0.0.0.0:15010)
  --secure-grpc-address H:P   certificate, discovery and quota gRPC over TLS (default 0.0.0.0:15012)
  --state-dir DIR             meshd's own state: the mesh CA's root in DIR/ca (default: on Kubernetes
                              the Secret minimesh-ca; elsewhere in memory, a new root each start)
  --ca-dir DIR                plug-in CA: ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem
                              (default DIR/cacerts of --state-dir, or the Secret cacerts on Kubernetes)
  --token-jwks FILE           check callers' ServiceAccount tokens against these keys (the local
                              cluster's); default on Kubernetes: TokenReview
  --workload-cert-ttl DUR     workload certificate validity when a proxy asks for none (default 24h)
  --max-workload-cert-ttl DUR longest workload certificate validity granted (default 2160h = 90 days)
  --monitoring-address H:P    /metrics, /healthz/ready, /debug/* (default 0.0.0.0:15014)
  --webhook-address H:P       injection and validation webhooks, HTTPS (default 0.0.0.0:15017)
  --webhook-cert FILE         webhook TLS certificate (PEM)
  --webhook-key FILE          webhook TLS key (PEM)
  --native-sidecars MODE      injected proxies as native sidecars (init containers with restartPolicy
                              Always): auto (default: when the API server is 1.33 or newer), true, false
  --endpoints KIND            EndpointSlice (default) or Endpoints, with Kubernetes
  --quota-backend KIND        memory (default: counts in this meshd) or redis (shared by replicas)
  --redis-url URL             Redis for --quota-backend redis (default redis://127.0.0.1:6379)
  --trace-collector URL       sidecars send spans there (Zipkin .../api/v2/spans or OTLP/HTTP .../v1/traces);
                              none: tracing off
  --trace-format FORMAT       zipkin (default) or otlp
  --trace-sampling PERCENT    share of the traces a sidecar starts that are sampled (default 1); a pod's
                              tracing.minimesh.dev/sampling annotation overrides it
  --no-status                 do not write each mesh resource's outcome to its status (Kubernetes;
                              written by default: status.conditions, observedGeneration)
  --log-level LEVEL           trace, debug, info (default), warn, error
  -h, --help                  this text
`

async function main(): Promise<number> {
  let values: Record<string, string | boolean | undefined>
  try {
    ;({ values } = parseArgs({
      options: {
        'config-dir': { type: 'string' },
        'grpc-address': { type: 'string' },
        'secure-grpc-address': { type: 'string' },
        'state-dir': { type: 'string' },
        'ca-dir': { type: 'string' },
        'token-jwks': { type: 'string' },
        'workload-cert-ttl': { type: 'string' },
        'max-workload-cert-ttl': { type: 'string' },
        'monitoring-address': { type: 'string' },
        'webhook-address': { type: 'string' },
        'webhook-cert': { type: 'string' },
        'webhook-key': { type: 'string' },
        endpoints: { type: 'string' },
        'native-sidecars': { type: 'string' },
        'quota-backend': { type: 'string' },
        'redis-url': { type: 'string' },
        'log-level': { type: 'string' },
        'trace-collector': { type: 'string' },
        'trace-format': { type: 'string' },
        'trace-sampling': { type: 'string' },
        'no-status': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }))
  } catch (err) {
    console.error(`meshd: ${(err as Error).message}\n\n${USAGE}`)
    return 2
  }
  if (values.help) {
    process.stdout.write(USAGE)
    return 0
  }
  const endpoints = values.endpoints as string | undefined
  if (endpoints !== undefined && endpoints !== 'EndpointSlice' && endpoints !== 'Endpoints') {
    console.error(`meshd: --endpoints must be EndpointSlice or Endpoints, got ${endpoints}`)
    return 2
  }
  if (Boolean(values['webhook-cert']) !== Boolean(values['webhook-key'])) {
    console.error('meshd: --webhook-cert and --webhook-key go together')
    return 2
  }
  const nativeFlag = (values['native-sidecars'] as string | undefined) ?? 'auto'
  if (!['auto', 'true', 'false'].includes(nativeFlag)) {
    console.error(`meshd: --native-sidecars must be auto, true or false, got ${nativeFlag}`)
    return 2
  }
  const quotaBackend = (values['quota-backend'] as string | undefined) ?? 'memory'
  if (quotaBackend !== 'memory' && quotaBackend !== 'redis') {
    console.error(`meshd: --quota-backend must be memory or redis, got ${quotaBackend}`)
    return 2
  }
  const ttl = (flag: string, fallback: string): number | undefined => {
    const text = (values[flag] as string | undefined) ?? fallback
    const ms = parseDuration(text)
    if (ms === undefined || ms < 1000) {
      console.error(`meshd: --${flag} must be a duration of at least 1s (24h, 90m, 3600s), got ${text}`)
      return undefined
    }
    return Math.floor(ms / 1000)
  }
  const traceFormat = values['trace-format'] as string | undefined
  if (traceFormat !== undefined && traceFormat !== 'zipkin' && traceFormat !== 'otlp') {
    console.error(`meshd: --trace-format must be zipkin or otlp, got ${traceFormat}`)
    return 2
  }
  const traceSamplingText = values['trace-sampling'] as string | undefined
  const traceSampling = traceSamplingText === undefined ? undefined : Number(traceSamplingText)
  if (traceSampling !== undefined && !(traceSampling >= 0 && traceSampling <= 100)) {
    console.error(`meshd: --trace-sampling must be a percentage 0–100, got ${traceSamplingText}`)
    return 2
  }
  const traceCollector = values['trace-collector'] as string | undefined
  const tracing =
    traceCollector || traceSampling !== undefined
      ? {
          ...(traceCollector ? { collector: traceCollector } : {}),
          ...(traceFormat ? { format: traceFormat as 'zipkin' | 'otlp' } : {}),
          ...(traceSampling !== undefined ? { sampling: traceSampling } : {}),
        }
      : undefined
  const workloadCertTtl = ttl('workload-cert-ttl', '24h')
  const maxWorkloadCertTtl = ttl('max-workload-cert-ttl', '2160h')
  if (workloadCertTtl === undefined || maxWorkloadCertTtl === undefined) return 2
  const logger = pino({ name: 'meshd', level: (values['log-level'] as string | undefined) ?? 'info' })
  let meshd: Awaited<ReturnType<typeof startMeshd>>
  try {
    let source: import('./sources/source.ts').ConfigSource | undefined
    let kubeConfig: import('@kubernetes/client-node').KubeConfig | undefined
    if (values['config-dir'] === undefined && endpoints) {
      const { KubernetesSource, loadKubeConfig } = await import('./sources/kubernetes.ts')
      kubeConfig = loadKubeConfig()
      source = new KubernetesSource(kubeConfig, { logger, endpoints })
    }
    meshd = await startMeshd({
      configDir: values['config-dir'] as string | undefined,
      source,
      grpcAddress: values['grpc-address'] as string | undefined,
      monitoringAddress: values['monitoring-address'] as string | undefined,
      webhookAddress: values['webhook-address'] as string | undefined,
      webhookCert: values['webhook-cert'] as string | undefined,
      webhookKey: values['webhook-key'] as string | undefined,
      nativeSidecars: nativeFlag === 'auto' ? 'auto' : nativeFlag === 'true',
      ca: {
        address: (values['secure-grpc-address'] as string | undefined) ?? '0.0.0.0:15012',
        stateDir: values['state-dir'] as string | undefined,
        pluginDir: values['ca-dir'] as string | undefined,
        tokenJwks: values['token-jwks'] as string | undefined,
        kubeConfig,
        workloadCertTtlSeconds: workloadCertTtl,
        maxWorkloadCertTtlSeconds: maxWorkloadCertTtl,
      },
      logger,
      ...(values['no-status'] ? { statusWriter: false as const } : {}),
      ...(tracing ? { injectConfig: { tracing } } : {}),
      // The quota service shares the discovery gRPC server (15010 and 15012).
      grpcServices: (server) =>
        addQuotaService(
          server,
          quotaBackend === 'redis'
            ? new RedisQuotaBackend({
                url: (values['redis-url'] as string | undefined) ?? 'redis://127.0.0.1:6379',
              })
            : new MemoryQuotaBackend(),
        ),
    })
  } catch (err) {
    const e = err as Error & { code?: string }
    if (err instanceof ControlPlaneError) console.error(`meshd: ${e.message} [${e.code}]`)
    else console.error(`meshd: cannot start: ${e.stack ?? e.message}`)
    return 1
  }
  // Machine-readable line for wrappers (local cluster, tests): where meshd listens.
  console.log(JSON.stringify({ msg: 'meshd listening', ...meshd.addresses }))
  await new Promise<void>((resolve) => {
    let stopping = false
    const stop = (signal: string) => {
      if (stopping) return
      stopping = true
      logger.info({ signal }, 'meshd: shutting down')
      meshd.close().then(resolve, resolve)
    }
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
  })
  logger.info('meshd: stopped')
  return 0
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    console.error(`meshd: ${(err as Error).stack ?? err}`)
    process.exitCode = 1
  },
)
