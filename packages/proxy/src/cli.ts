// mesh-proxy's command line (loaded by main.ts once the V8 flags are in place): the sidecar
// (`mesh-proxy sidecar`) and ingress gateway (`mesh-proxy router`).
// Configuration comes from meshd over gRPC (--discovery-address) or from a file (--config).
// Workload identity comes from the environment the injector sets (POD_NAME, POD_NAMESPACE,
// INSTANCE_IP, SERVICE_ACCOUNT, MESH_WORKLOAD_NAME, MESH_POD_LABELS, MESH_APP_PORTS).
// With the mesh roots (--ca-root-cert / MESH_CA_ROOT_CERT) the proxy gets its certificate from
// meshd's CA, and talks to meshd (discovery, quota, CA) over TLS on 15012 instead of 15010.
import { parseArgs } from 'node:util'
import type { ChannelCredentials } from '@grpc/grpc-js'
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

const USAGE = `Usage: mesh-proxy sidecar|router [flags]
       mesh-proxy wait [--health-port N] [--timeout SECONDS]
  wait: exits 0 once this pod's proxy answers /healthz/ready with 200 (a classic sidecar's
  postStart hook: the app starts only then), 1 after the timeout (default 600)
  --discovery-address HOST:PORT  meshd discovery (default $MESH_DISCOVERY_ADDRESS)
  --config FILE                  static configuration (YAML/JSON {listeners, routes, clusters, endpoints})
  --admin-port N                 admin on 127.0.0.1 (default ${PROXY_ADMIN_PORT})
  --stats-port N                 status: /stats/prometheus (scraped), app probes (default ${PROXY_STATUS_PORT})
  --health-port N                /healthz/ready (default ${PROXY_HEALTH_PORT})
  --prom-port N                  the proxy's own Prometheus /stats/prometheus (default ${PROXY_PROMETHEUS_PORT})
  --outbound-port N              bind virtualOutbound here (default: its configured ${OUTBOUND_CAPTURE_PORT})
  --inbound-port N               bind virtualInbound here (default: its configured ${INBOUND_CAPTURE_PORT})
  --port-map FROM=TO             bind a listener configured on FROM at TO (repeatable)
  --bind-address ADDR            bind every listener on ADDR
  --access-log stdout|off|FILE   JSON access log (default stdout)
  --log-level LEVEL              trace|debug|info|warn|error (default info)
  --drain-seconds N              SIGTERM: wait at most this long for in-flight requests (router default 5;
                                 sidecar default: until the app is done, or the kubelet's grace period)
  --min-drain-seconds N          sidecar, SIGTERM or POST /quitquitquit: keep serving the app's outbound
                                 calls at least this long, then exit once it has no connection open
                                 (default 5; a native sidecar, stopped after the app, gets 0)
  --max-header-kb N              largest request head accepted (default 60)
  --quota-address HOST:PORT      quota service (default: the discovery address)
  --quota-timeout-ms N           how long a quota check may take (default 200)
  --quota-fail-closed            refuse requests when the quota service cannot answer (default: admit)
  --ca-root-cert=PEM|FILE       mesh roots (default $MESH_CA_ROOT_CERT): get a workload certificate from
                                 meshd's CA and reach meshd (discovery, quota, CA) over TLS verified by them
  --ca-address HOST:PORT         certificate service (default $MESH_CA_ADDRESS, else the discovery host
                                 with port 15012); discovery and quota use it too when roots are given
  --token-file FILE              ServiceAccount token for the CA (default /var/run/secrets/tokens/minimesh-token)
  --workload-cert-ttl DURATION   certificate lifetime to ask for, e.g. 24h (default $MESH_WORKLOAD_CERT_TTL,
                                 else the CA's default); renewed at half life
  --trace-collector URL|H:P      send spans there: Zipkin /api/v2/spans or OTLP/HTTP /v1/traces
                                 (default $MESH_TRACE_COLLECTOR; none: tracing off)
  --trace-format zipkin|otlp     span format (default $MESH_TRACE_FORMAT, else zipkin)
  --trace-sampling PERCENT       traces this proxy starts that are sampled (default $MESH_TRACE_SAMPLING, else 1)`

function int(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new ProxyError('MESH_ERR_PROXY_BAD_OPTION', `${flag}: not a port: ${v}`)
  return n
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

/** A duration flag (`24h`, `90m`, `3600s`, or plain seconds) in whole seconds. */
function seconds(
  parseDuration: (text: string) => number | undefined,
  flag: string,
  v: string | undefined,
): number | undefined {
  if (v === undefined || v === '') return undefined
  const ms = /^\d+$/.test(v) ? Number(v) * 1000 : parseDuration(v)
  if (ms === undefined || ms < 1000)
    throw new ProxyError('MESH_ERR_PROXY_BAD_OPTION', `${flag}: not a duration of at least 1s: ${v}`)
  return Math.round(ms / 1000)
}

/** The CA and TLS-to-meshd settings, when mesh roots are given; undefined otherwise. */
async function meshTls(
  values: Record<string, string | boolean | string[] | undefined>,
  env: NodeJS.ProcessEnv,
  discoveryAddress: string | undefined,
): Promise<{ ca: CaOptions; credentials: ChannelCredentials } | undefined> {
  const str = (k: string) => values[k] as string | undefined
  const rootsFlag = str('ca-root-cert') ?? env.MESH_CA_ROOT_CERT
  if (!rootsFlag) return undefined
  const from = str('ca-root-cert') !== undefined ? '--ca-root-cert' : 'MESH_CA_ROOT_CERT'
  const { readRoots } = await import('./identity/chain.ts')
  const { meshChannelCredentials } = await import('./identity/ca-client.ts')
  const rootsPem = readRoots(rootsFlag, from)
  const address =
    str('ca-address') ??
    env.MESH_CA_ADDRESS ??
    (discoveryAddress ? withPort(discoveryAddress, 15012) : undefined)
  if (!address)
    throw new ProxyError(
      'MESH_ERR_PROXY_BAD_OPTION',
      `${from} is given but not where the CA is: give --ca-address (or --discovery-address)`,
    )
  // Loaded here: a proxy without a CA does not load the API package's index at start.
  const { parseDuration } = await import('@minimesh/api')
  const ttlSeconds =
    seconds(parseDuration, '--workload-cert-ttl', str('workload-cert-ttl')) ??
    seconds(parseDuration, 'MESH_WORKLOAD_CERT_TTL', env.MESH_WORKLOAD_CERT_TTL)
  const tokenFile = str('token-file')
  return {
    ca: {
      address,
      rootsPem,
      ...(tokenFile ? { tokenFile } : {}),
      ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
    },
    credentials: meshChannelCredentials(rootsPem),
  }
}

/** `mesh-proxy wait`: polls the local proxy's readiness (postStart hook of a classic sidecar). */
async function waitReady(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { 'health-port': { type: 'string' }, timeout: { type: 'string' } },
  })
  const port = int('--health-port', values['health-port']) ?? PROXY_HEALTH_PORT
  const timeout = Number(values.timeout ?? 600)
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw new ProxyError('MESH_ERR_PROXY_BAD_OPTION', `--timeout: not a number of seconds: ${values.timeout}`)
  const until = Date.now() + timeout * 1000
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
    `the proxy was not ready within ${timeout}s (last: ${last}); see the mesh-proxy container's log`,
  )
}

export async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'wait') return waitReady(argv.slice(1))
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'discovery-address': { type: 'string' },
      config: { type: 'string' },
      'admin-port': { type: 'string' },
      'stats-port': { type: 'string' },
      'health-port': { type: 'string' },
      'prom-port': { type: 'string' },
      'outbound-port': { type: 'string' },
      'inbound-port': { type: 'string' },
      'port-map': { type: 'string', multiple: true },
      'bind-address': { type: 'string' },
      'access-log': { type: 'string' },
      'log-level': { type: 'string' },
      'drain-seconds': { type: 'string' },
      'min-drain-seconds': { type: 'string' },
      'max-header-kb': { type: 'string' },
      'quota-address': { type: 'string' },
      'quota-timeout-ms': { type: 'string' },
      'quota-fail-closed': { type: 'boolean' },
      'ca-root-cert': { type: 'string' },
      'ca-address': { type: 'string' },
      'token-file': { type: 'string' },
      'workload-cert-ttl': { type: 'string' },
      'trace-collector': { type: 'string' },
      'trace-format': { type: 'string' },
      'trace-sampling': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    console.log(USAGE)
    return
  }
  const mode = positionals[0] ?? 'sidecar'
  if (mode !== 'sidecar' && mode !== 'router')
    throw new ProxyError('MESH_ERR_PROXY_BAD_OPTION', `unknown mode ${mode}\n${USAGE}`)
  const env = process.env
  const discoveryAddress = values['discovery-address'] ?? env.MESH_DISCOVERY_ADDRESS
  if (!values.config && !discoveryAddress) {
    throw new ProxyError('MESH_ERR_PROXY_BAD_OPTION', `give --discovery-address or --config\n${USAGE}`)
  }
  // meshd sends virtualOutbound and virtualInbound on the default capture ports, the same for every
  // proxy (as Istio's xDS); the ports this pod's iptables redirect to are the injector's choice,
  // given here, and the proxy binds those two listeners there. So meshd needs no per-proxy port
  // and the proxy's node metadata carries none: the two pod-local ends (mesh-init's -p/-z and
  // these flags) are set from one InjectConfig.
  const portMap: Record<number, number> = {}
  const outbound = int('--outbound-port', values['outbound-port'])
  const inbound = int('--inbound-port', values['inbound-port'])
  if (outbound !== undefined) portMap[OUTBOUND_CAPTURE_PORT] = outbound
  if (inbound !== undefined) portMap[INBOUND_CAPTURE_PORT] = inbound
  for (const m of values['port-map'] ?? []) {
    const [from, to] = m.split('=')
    portMap[int('--port-map', from)!] = int('--port-map', to)!
  }
  const log = pino({ name: 'mesh-proxy', level: values['log-level'] ?? 'info' }, pino.destination(2))
  const accessLogFlag = values['access-log'] ?? 'stdout'
  const accessLog =
    accessLogFlag === 'off'
      ? 'off'
      : accessLogFlag === 'stdout'
        ? process.stdout
        : // Written synchronously, one write per event-loop turn (as Node writes stdout to a file
          // or pipe): an async file stream goes through the thread pool and queues without bound
          // when the disk lags behind the request rate.
          pino.destination({ dest: accessLogFlag, sync: true, append: true })
  const drainSeconds =
    values['drain-seconds'] !== undefined
      ? Number(values['drain-seconds'])
      : mode === 'router'
        ? 5
        : Number.POSITIVE_INFINITY
  const minDrainSeconds = Number(values['min-drain-seconds'] ?? 5)
  if (!(drainSeconds >= 0) || !(minDrainSeconds >= 0))
    throw new ProxyError(
      'MESH_ERR_PROXY_BAD_OPTION',
      '--drain-seconds/--min-drain-seconds: not a number of seconds',
    )
  let stop: (signal: string, minDrainMs?: number) => void = () => {}
  const tracing = tracingFromFlags({
    collector: values['trace-collector'] ?? env.MESH_TRACE_COLLECTOR,
    format: values['trace-format'] ?? env.MESH_TRACE_FORMAT,
    sampling: values['trace-sampling'] ?? env.MESH_TRACE_SAMPLING,
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
      client: grpcQuotaClient(quotaAddress, Number(values['quota-timeout-ms'] ?? 200), mesh?.credentials),
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
    adminPort: int('--admin-port', values['admin-port']) ?? PROXY_ADMIN_PORT,
    statsPort: int('--stats-port', values['stats-port']) ?? PROXY_STATUS_PORT,
    healthPort: int('--health-port', values['health-port']) ?? PROXY_HEALTH_PORT,
    promPort: int('--prom-port', values['prom-port']) ?? PROXY_PROMETHEUS_PORT,
    ...(values['bind-address'] ? { bindAddress: values['bind-address'] } : {}),
    portMap,
    accessLog,
    logger: log,
    drainTimeoutMs: drainSeconds * 1000,
    onQuit: () => stop('quitquitquit', 0),
    maxHeaderSize: Number(values['max-header-kb'] ?? 60) * 1024,
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
