// meshd: the minimesh control plane. Thin command line over startMeshd() (main.ts launches it).
import { defineOptions, type OptionValues } from '@minimesh/api/options'
import { pino } from 'pino'
import { ControlPlaneError } from './errors.ts'
import { startMeshd } from './meshd.ts'
import { addQuotaService, MemoryQuotaBackend, RedisQuotaBackend } from './quota/index.ts'

const badFlag = (message: string, detail: { cause?: unknown }) =>
  new ControlPlaneError('MESH_ERR_MESHD_BAD_FLAG', message, { cause: detail.cause })

const MESHD_OPTIONS = defineOptions(
  {
    'config-dir': {
      type: 'string',
      arg: 'DIR',
      help: 'read configuration from the YAML/JSON files below DIR',
    },
    'grpc-address': {
      type: 'string',
      arg: 'HOST:PORT',
      defaultText: '0.0.0.0:15010',
      help: 'discovery gRPC, plaintext',
    },
    'secure-grpc-address': {
      type: 'string',
      arg: 'H:P',
      default: '0.0.0.0:15012',
      help: 'certificate, discovery and quota gRPC over TLS',
    },
    'state-dir': {
      type: 'string',
      arg: 'DIR',
      defaultText: 'on Kubernetes the Secret minimesh-ca; elsewhere in memory, a new root each start',
      help: "meshd's own state: the mesh CA's root in DIR/ca",
    },
    'ca-dir': {
      type: 'string',
      arg: 'DIR',
      defaultText: 'DIR/cacerts of --state-dir, or the Secret cacerts on Kubernetes',
      help: 'plug-in CA: ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem',
    },
    'token-jwks': {
      type: 'string',
      arg: 'FILE',
      defaultText: 'on Kubernetes: TokenReview',
      help: "check callers' ServiceAccount tokens against these keys (the local cluster's)",
    },
    'workload-cert-ttl': {
      type: 'duration',
      arg: 'DUR',
      min: 1000,
      default: 86_400_000,
      help: 'workload certificate validity when a proxy asks for none',
    },
    'max-workload-cert-ttl': {
      type: 'duration',
      arg: 'DUR',
      min: 1000,
      default: 7_776_000_000,
      defaultText: '2160h = 90 days',
      help: 'longest workload certificate validity granted',
    },
    'monitoring-address': {
      type: 'string',
      arg: 'H:P',
      defaultText: '0.0.0.0:15014',
      help: '/metrics, /healthz/ready, /debug/*',
    },
    'webhook-address': {
      type: 'string',
      arg: 'H:P',
      defaultText: '0.0.0.0:15017',
      help: 'injection and validation webhooks, HTTPS',
    },
    'webhook-cert': { type: 'string', arg: 'FILE', help: 'webhook TLS certificate (PEM)' },
    'webhook-key': { type: 'string', arg: 'FILE', help: 'webhook TLS key (PEM)' },
    'native-sidecars': {
      type: 'enum',
      values: ['auto', 'true', 'false'],
      default: 'auto',
      help:
        'injected proxies as native sidecars (init containers with restartPolicy Always); auto: when ' +
        'the API server is 1.33 or newer',
    },
    endpoints: {
      type: 'enum',
      values: ['EndpointSlice', 'Endpoints'],
      defaultText: 'EndpointSlice',
      help: 'what to read endpoints from, with Kubernetes',
    },
    'quota-backend': {
      type: 'enum',
      values: ['memory', 'redis'],
      default: 'memory',
      help: 'memory: counts in this meshd; redis: shared by replicas',
    },
    'redis-url': {
      type: 'string',
      arg: 'URL',
      default: 'redis://127.0.0.1:6379',
      help: 'Redis for --quota-backend redis',
    },
    'trace-collector': {
      type: 'string',
      arg: 'URL',
      defaultText: 'none: tracing off',
      help: 'sidecars send spans there (Zipkin .../api/v2/spans or OTLP/HTTP .../v1/traces)',
    },
    'trace-format': { type: 'enum', values: ['zipkin', 'otlp'], defaultText: 'zipkin', help: 'span format' },
    'trace-sampling': {
      type: 'number',
      min: 0,
      max: 100,
      arg: 'PERCENT',
      defaultText: '1',
      help:
        "share of the traces a sidecar starts that are sampled; a pod's tracing.minimesh.dev/sampling " +
        'annotation overrides it',
    },
    'no-status': {
      type: 'boolean',
      help:
        "do not write each mesh resource's outcome to its status (Kubernetes; written by default: " +
        'status.conditions, observedGeneration)',
    },
    'log-level': {
      type: 'enum',
      values: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
      default: 'info',
      help: 'log level',
    },
    help: { type: 'boolean', short: 'h', help: 'this text' },
  },
  {
    usage: `Usage: meshd [flags]

Serves proxy configuration (discovery gRPC), monitoring and debug pages, and the webhooks.
Configuration comes from --config-dir DIR (watched), or else from Kubernetes (kubectl's order:
KUBECONFIG, else ~/.kube/config, else in-cluster).`,
    error: badFlag,
  },
)

export type MeshdFlags = OptionValues<typeof MESHD_OPTIONS.table>

/** meshd's usage text (`meshd --help`). */
export const usage = (): string => MESHD_OPTIONS.usage()

/** meshd's argv (without node and the script) → its checked flags; MESH_ERR_MESHD_BAD_FLAG when one is wrong. */
export function parseMeshdArgs(argv: readonly string[]): MeshdFlags {
  const { values } = MESHD_OPTIONS.parse(argv)
  if (Boolean(values['webhook-cert']) !== Boolean(values['webhook-key']))
    throw badFlag('--webhook-cert and --webhook-key go together', {})
  return values
}

/** Runs meshd with `argv` until SIGTERM or SIGINT; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let values: MeshdFlags
  try {
    values = parseMeshdArgs(argv)
  } catch (err) {
    if (!(err instanceof ControlPlaneError)) throw err
    console.error(`meshd: ${err.message} [${err.code}]\n\n${usage()}`)
    return 2
  }
  if (values.help) {
    process.stdout.write(`${usage()}\n`)
    return 0
  }
  const { endpoints } = values
  const nativeFlag = values['native-sidecars']
  const quotaBackend = values['quota-backend']
  const traceFormat = values['trace-format']
  const traceSampling = values['trace-sampling']
  const traceCollector = values['trace-collector']
  const tracing =
    traceCollector || traceSampling !== undefined
      ? {
          ...(traceCollector ? { collector: traceCollector } : {}),
          ...(traceFormat ? { format: traceFormat } : {}),
          ...(traceSampling !== undefined ? { sampling: traceSampling } : {}),
        }
      : undefined
  const workloadCertTtl = Math.floor(values['workload-cert-ttl'] / 1000)
  const maxWorkloadCertTtl = Math.floor(values['max-workload-cert-ttl'] / 1000)
  const logger = pino({ name: 'meshd', level: values['log-level'] })
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
      configDir: values['config-dir'],
      source,
      grpcAddress: values['grpc-address'],
      monitoringAddress: values['monitoring-address'],
      webhookAddress: values['webhook-address'],
      webhookCert: values['webhook-cert'],
      webhookKey: values['webhook-key'],
      nativeSidecars: nativeFlag === 'auto' ? 'auto' : nativeFlag === 'true',
      ca: {
        address: values['secure-grpc-address'],
        stateDir: values['state-dir'],
        pluginDir: values['ca-dir'],
        tokenJwks: values['token-jwks'],
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
                url: values['redis-url'],
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
