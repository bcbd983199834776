// mesh-proxy's command line (loaded by main.ts once the V8 flags are in place): the sidecar
// (`mesh-proxy sidecar`) and ingress gateway (`mesh-proxy router`).
// Configuration comes from meshd over gRPC (--discovery-address) or from a file (--config).
// Workload identity comes from the environment the injector sets (POD_NAME, POD_NAMESPACE,
// INSTANCE_IP, SERVICE_ACCOUNT, MESH_WORKLOAD_NAME, MESH_POD_LABELS, MESH_APP_PORTS).
// With the mesh roots (--ca-root-cert / MESH_CA_ROOT_CERT) the proxy gets its certificate from
// meshd's CA, and talks to meshd (discovery, quota, CA) over TLS on 15012 instead of 15010.
import type { ChannelCredentials } from '@grpc/grpc-js'
import { defineOptions, formatOptions, type OptionValues, portValue } from '@minimesh/api/options'
import {
  INBOUND_CAPTURE_PORT,
  OUTBOUND_CAPTURE_PORT,
  PROXY_ADMIN_PORT,
  PROXY_HEALTH_PORT,
  PROXY_PROMETHEUS_PORT,
  PROXY_STATUS_PORT,
} from '@minimesh/api/ports'
import pino from 'pino'
import { parseAppProbers } from './admin/app-probes.ts'
import { ProxyError } from './errors.ts'
import { type CaOptions, startProxy } from './proxy.ts'
import type { QuotaInboundPolicy } from './quota/index.ts'
import { tracingFromFlags } from './tracing/config.ts'

const badOption = (message: string, detail: { cause?: unknown }) =>
  new ProxyError('MESH_ERR_PROXY_BAD_OPTION', message, { cause: detail.cause })

/** `mesh-proxy wait`'s flags. */
const WAIT_OPTIONS = defineOptions(
  {
    'health-port': { type: 'port', default: PROXY_HEALTH_PORT, help: "the proxy's /healthz/ready" },
    timeout: {
      type: 'duration',
      bare: 's',
      min: 1,
      default: 600_000,
      defaultText: '600',
      arg: 'SECONDS',
      help: 'give up (exit 1) after this long',
    },
  },
  { usage: 'Usage: mesh-proxy wait [flags]', error: badOption },
)

/** `mesh-proxy sidecar|router`'s flags. */
const PROXY_OPTIONS = defineOptions(
  {
    'discovery-address': {
      type: 'string',
      arg: 'HOST:PORT',
      env: 'MESH_DISCOVERY_ADDRESS',
      help: 'meshd discovery',
    },
    config: {
      type: 'string',
      arg: 'FILE',
      help: 'static configuration (YAML/JSON {listeners, routes, clusters, endpoints})',
    },
    'admin-port': { type: 'port', default: PROXY_ADMIN_PORT, help: 'admin on 127.0.0.1' },
    'stats-port': {
      type: 'port',
      default: PROXY_STATUS_PORT,
      help: 'status: /stats/prometheus (scraped), app probes',
    },
    'health-port': { type: 'port', default: PROXY_HEALTH_PORT, help: '/healthz/ready' },
    'prom-port': {
      type: 'port',
      default: PROXY_PROMETHEUS_PORT,
      help: "the proxy's own Prometheus /stats/prometheus",
    },
    'outbound-port': {
      type: 'port',
      defaultText: `its configured ${OUTBOUND_CAPTURE_PORT}`,
      help: 'bind virtualOutbound here',
    },
    'inbound-port': {
      type: 'port',
      defaultText: `its configured ${INBOUND_CAPTURE_PORT}`,
      help: 'bind virtualInbound here',
    },
    'port-map': {
      type: 'map',
      key: portValue(),
      value: portValue(),
      arg: 'FROM=TO',
      example: '15001=0',
      help: 'bind a listener configured on FROM at TO (repeatable)',
    },
    'bind-address': { type: 'string', arg: 'ADDR', help: 'bind every listener on ADDR' },
    'access-log': { type: 'string', arg: 'stdout|off|FILE', default: 'stdout', help: 'JSON access log' },
    'log-level': {
      type: 'enum',
      values: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
      default: 'info',
      help: 'log level',
    },
    'drain-seconds': {
      type: 'number',
      min: 0,
      defaultText: "router 5; sidecar: until the app is done, or the kubelet's grace period",
      help: 'SIGTERM: wait at most this long for in-flight requests',
    },
    'min-drain-seconds': {
      type: 'number',
      min: 0,
      default: 5,
      help:
        "sidecar, SIGTERM or POST /quitquitquit: keep serving the app's outbound calls at least this long, " +
        'then exit once it has no connection open (a native sidecar, stopped after the app, gets 0)',
    },
    'max-header-kb': { type: 'integer', min: 1, default: 60, help: 'largest request head accepted' },
    'quota-address': {
      type: 'string',
      arg: 'HOST:PORT',
      defaultText: 'the discovery address',
      help: 'quota service',
    },
    'quota-timeout-ms': { type: 'integer', min: 1, default: 200, help: 'how long a quota check may take' },
    'quota-fail-closed': {
      type: 'boolean',
      help: 'refuse requests when the quota service cannot answer (default: admit)',
    },
    // Not `env:` here: meshTls says which of the two the roots came from.
    'ca-root-cert': {
      type: 'string',
      arg: 'PEM|FILE',
      defaultText: '$MESH_CA_ROOT_CERT',
      help:
        "mesh roots: get a workload certificate from meshd's CA and reach meshd (discovery, quota, CA) " +
        'over TLS verified by them',
    },
    'ca-address': {
      type: 'string',
      arg: 'HOST:PORT',
      env: 'MESH_CA_ADDRESS',
      defaultText: 'the discovery host with port 15012',
      help: 'certificate service; discovery and quota use it too when roots are given',
    },
    'token-file': {
      type: 'string',
      arg: 'FILE',
      defaultText: '/var/run/secrets/tokens/minimesh-token',
      help: 'ServiceAccount token for the CA',
    },
    'workload-cert-ttl': {
      type: 'duration',
      bare: 's',
      min: 1000,
      env: 'MESH_WORKLOAD_CERT_TTL',
      defaultText: "the CA's default",
      help: 'certificate lifetime to ask for, e.g. 24h; renewed at half life',
    },
    'trace-collector': {
      type: 'string',
      arg: 'URL|H:P',
      env: 'MESH_TRACE_COLLECTOR',
      defaultText: 'none: tracing off',
      help: 'send spans there: Zipkin /api/v2/spans or OTLP/HTTP /v1/traces',
    },
    'trace-format': {
      type: 'enum',
      values: ['zipkin', 'otlp'],
      env: 'MESH_TRACE_FORMAT',
      defaultText: 'zipkin',
      help: 'span format',
    },
    'trace-sampling': {
      type: 'number',
      min: 0,
      max: 100,
      arg: 'PERCENT',
      env: 'MESH_TRACE_SAMPLING',
      defaultText: '1',
      help: 'traces this proxy starts that are sampled',
    },
    help: { type: 'boolean', short: 'h', help: 'this text' },
  },
  {
    usage: `Usage: mesh-proxy sidecar|router [flags]
       mesh-proxy wait [--health-port N] [--timeout SECONDS]`,
    footer: `wait: exits 0 once this pod's proxy answers /healthz/ready with 200 (a classic sidecar's
postStart hook: the app starts only then), 1 after the timeout.
${formatOptions(WAIT_OPTIONS.table)}`,
    allowPositionals: true,
    error: badOption,
  },
)

export type ProxyFlags = OptionValues<typeof PROXY_OPTIONS.table>

/** mesh-proxy's usage text (`mesh-proxy --help`). */
export const usage = (): string => PROXY_OPTIONS.usage()

/** `mesh-proxy [sidecar|router] [flags]` → the mode and the checked flags (environment defaults applied). */
export function parseProxyArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = {},
): { mode: 'sidecar' | 'router'; values: ProxyFlags } {
  const { values, positionals } = PROXY_OPTIONS.parse(argv, env)
  const mode = positionals[0] ?? 'sidecar'
  if ((mode !== 'sidecar' && mode !== 'router') || positionals.length > 1)
    throw new ProxyError('MESH_ERR_PROXY_BAD_OPTION', `unknown mode ${positionals.join(' ')}\n${usage()}`)
  return { mode, values }
}

/** `mesh-proxy wait [flags]` → its checked flags. */
export function parseWaitArgs(argv: readonly string[]): OptionValues<typeof WAIT_OPTIONS.table> {
  return WAIT_OPTIONS.parse(argv).values
}

function parseLabels(text: string | undefined): Record<string, string> {
  if (!text) return {}
  try {
    const o = JSON.parse(text) as unknown
    if (o && typeof o === 'object' && !Array.isArray(o)) {
      return Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v === 'string')) as Record<
        string,
        string
      >
    }
  } catch {
    // fall through
  }
  throw new ProxyError(
    'MESH_ERR_PROXY_BAD_OPTION',
    `MESH_POD_LABELS is not a JSON object of strings: ${text}`,
  )
}

/** `host:port` with another port (IPv6 `[::1]:15010` too). */
function withPort(address: string, port: number): string {
  const i = address.lastIndexOf(':')
  return `${i > 0 ? address.slice(0, i) : address}:${port}`
}

/** The CA and TLS-to-meshd settings, when mesh roots are given; undefined otherwise. */
async function meshTls(
  values: ProxyFlags,
  env: NodeJS.ProcessEnv,
  discoveryAddress: string | undefined,
): Promise<{ ca: CaOptions; credentials: ChannelCredentials } | undefined> {
  const rootsFlag = values['ca-root-cert'] ?? env.MESH_CA_ROOT_CERT
  if (!rootsFlag) return undefined
  const from = values['ca-root-cert'] !== undefined ? '--ca-root-cert' : 'MESH_CA_ROOT_CERT'
  const { readRoots } = await import('./identity/chain.ts')
  const { meshChannelCredentials } = await import('./identity/ca-client.ts')
  const rootsPem = readRoots(rootsFlag, from)
  const address = values['ca-address'] ?? (discoveryAddress ? withPort(discoveryAddress, 15012) : undefined)
  if (!address)
    throw new ProxyError(
      'MESH_ERR_PROXY_BAD_OPTION',
      `${from} is given but not where the CA is: give --ca-address (or --discovery-address)`,
    )
  const ttl = values['workload-cert-ttl']
  const tokenFile = values['token-file']
  return {
    ca: {
      address,
      rootsPem,
      ...(tokenFile ? { tokenFile } : {}),
      ...(ttl !== undefined ? { ttlSeconds: Math.round(ttl / 1000) } : {}),
    },
    credentials: meshChannelCredentials(rootsPem),
  }
}

/** `mesh-proxy wait`: polls the local proxy's readiness (postStart hook of a classic sidecar). */
async function waitReady(argv: string[]): Promise<void> {
  const { 'health-port': port, timeout } = parseWaitArgs(argv)
  const until = Date.now() + timeout
  let last = 'no answer'
  while (Date.now() < until) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz/ready`, { signal: AbortSignal.timeout(1000) })
      last = `${res.status} ${(await res.text()).trim()}`
      if (res.status === 200) return
    } catch (err) {
      last = (err as Error).message
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new ProxyError(
    'MESH_ERR_PROXY_BAD_OPTION',
    `the proxy was not ready within ${timeout / 1000}s (last: ${last}); see the mesh-proxy container's log`,
  )
}

export async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'wait') return waitReady(argv.slice(1))
  const env = process.env
  const { mode, values } = parseProxyArgs(argv, env)
  if (values.help) {
    console.log(usage())
    return
  }
  const discoveryAddress = values['discovery-address']
  if (!values.config && !discoveryAddress) {
    throw new ProxyError('MESH_ERR_PROXY_BAD_OPTION', `give --discovery-address or --config\n${usage()}`)
  }
  // meshd sends virtualOutbound and virtualInbound on the default capture ports, the same for every
  // proxy (as Istio's xDS); the ports this pod's iptables redirect to are the injector's choice,
  // given here, and the proxy binds those two listeners there. So meshd needs no per-proxy port
  // and the proxy's node metadata carries none: the two pod-local ends (mesh-init's -p/-z and
  // these flags) are set from one InjectConfig.
  const portMap: Record<number, number> = {}
  if (values['outbound-port'] !== undefined) portMap[OUTBOUND_CAPTURE_PORT] = values['outbound-port']
  if (values['inbound-port'] !== undefined) portMap[INBOUND_CAPTURE_PORT] = values['inbound-port']
  for (const [from, to] of values['port-map']) portMap[from] = to
  const log = pino({ name: 'mesh-proxy', level: values['log-level'] }, pino.destination(2))
  const accessLogFlag = values['access-log']
  const accessLog =
    accessLogFlag === 'off'
      ? 'off'
      : accessLogFlag === 'stdout'
        ? process.stdout
        : // Written synchronously, one write per event-loop turn (as Node writes stdout to a file
          // or pipe): an async file stream goes through the thread pool and queues without bound
          // when the disk lags behind the request rate.
          pino.destination({ dest: accessLogFlag, sync: true, append: true })
  const drainSeconds = values['drain-seconds'] ?? (mode === 'router' ? 5 : Number.POSITIVE_INFINITY)
  const minDrainSeconds = values['min-drain-seconds']
  let stop: (signal: string, minDrainMs?: number) => void = () => {}
  const sampling = values['trace-sampling']
  const tracing = tracingFromFlags({
    collector: values['trace-collector'],
    format: values['trace-format'],
    sampling: sampling === undefined ? undefined : String(sampling),
  })
  const labels = parseLabels(env.MESH_POD_LABELS)
  const mesh = await meshTls(values, env, discoveryAddress)
  // With the mesh roots, meshd is reached on its TLS port (the CA's address) for everything.
  const xdsAddress = mesh ? mesh.ca.address : discoveryAddress
  const quotaAddress = values['quota-address'] ?? xdsAddress
  let quota: QuotaInboundPolicy | undefined
  if (quotaAddress) {
    // gRPC is loaded only when a quota service (or meshd) is configured.
    const { grpcQuotaClient, QuotaInboundPolicy } = await import('./quota/index.ts')
    quota = new QuotaInboundPolicy({
      client: grpcQuotaClient(quotaAddress, values['quota-timeout-ms'], mesh?.credentials),
      failOpen: !values['quota-fail-closed'],
    })
  }
  const proxy = await startProxy({
    mode,
    ...(values.config ? { config: values.config } : { discoveryAddress: xdsAddress! }),
    ...(mesh ? { ca: mesh.ca, discoveryRootsPem: mesh.ca.rootsPem } : {}),
    identity: {
      workload: env.MESH_WORKLOAD_NAME ?? labels.app ?? env.POD_NAME ?? 'unknown',
      namespace: env.POD_NAMESPACE ?? 'default',
      serviceAccount: env.SERVICE_ACCOUNT ?? 'default',
      pod: env.POD_NAME ?? 'unknown',
      ip: env.INSTANCE_IP ?? '127.0.0.1',
      labels,
    },
    metadata: env.MESH_APP_PORTS ? { app_ports: env.MESH_APP_PORTS } : {},
    adminPort: values['admin-port'],
    statsPort: values['stats-port'],
    healthPort: values['health-port'],
    promPort: values['prom-port'],
    ...(values['bind-address'] ? { bindAddress: values['bind-address'] } : {}),
    portMap,
    accessLog,
    logger: log,
    drainTimeoutMs: drainSeconds * 1000,
    onQuit: () => stop('quitquitquit', 0),
    maxHeaderSize: values['max-header-kb'] * 1024,
    ...(quota ? { inboundPolicy: quota } : {}),
    ...(tracing ? { tracing } : {}),
    appProbers: parseAppProbers(env.MESH_KUBE_APP_PROBERS),
  })
  if (quota) proxy.ctx.metrics.addSource(quota.registry)
  log.info(
    {
      mode,
      node: proxy.node.id,
      ports: proxy.ports,
      listeners: proxy.ports.listeners,
      ...(mesh ? { ca: mesh.ca.address, discovery: xdsAddress, tls: true } : {}),
    },
    'mesh-proxy started',
  )
  let stopping = false
  stop = (signal: string, minDrainMs = minDrainSeconds * 1000) => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'draining')
    const sidecar = mode === 'sidecar' ? { minMs: minDrainMs } : undefined
    proxy.drain(drainSeconds * 1000, sidecar).then(
      () => {
        log.info('drained, exiting')
        process.exit(0)
      },
      (err: unknown) => {
        log.error({ err }, 'drain failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}
