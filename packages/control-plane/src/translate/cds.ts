import { type Cluster, durationMs, type TrafficPolicy } from '@minimesh/api'
import { clusterProtocol, type Protocol } from '../registry/protocol.ts'
import type { Service, ServicePort } from '../registry/registry.ts'
import type { PushContext } from './context.ts'
import {
  BLACKHOLE_CLUSTER,
  INBOUND_PASSTHROUGH_CLUSTER,
  inboundClusterName,
  outboundClusterName,
  PASSTHROUGH_CLUSTER,
} from './names.ts'

/** Istio's defaults: 10 s connect timeout, least-request balancing. */
const CONNECT_TIMEOUT_MS = 10_000
const DEFAULT_LB: Cluster['lbPolicy'] = 'LEAST_REQUEST'

/**
 * The policy's settings for one port: a `portLevelSettings` entry for the port replaces all four
 * parts (a part it leaves out takes the default, not the policy's), as Istio documents.
 */
function forPort(policy: TrafficPolicy | undefined, port: number): TrafficPolicy | undefined {
  if (!policy) return undefined
  const { portLevelSettings, ...rest } = policy
  const p = portLevelSettings?.find((s) => s.port.number === port)
  if (!p) return rest
  return {
    loadBalancer: p.loadBalancer,
    connectionPool: p.connectionPool,
    outlierDetection: p.outlierDetection,
    tls: p.tls,
  }
}

/**
 * Istio's MergeTrafficPolicy for one port: the top-level policy with its port-level settings
 * applied; then each part the subset sets replaces that part; then the subset's own port-level
 * settings for the port replace all parts.
 */
function mergePolicy(
  top: TrafficPolicy | undefined,
  subset: TrafficPolicy | undefined,
  port: number,
): TrafficPolicy | undefined {
  const base = forPort(top, port)
  if (!subset) return base
  return forPort(
    {
      loadBalancer: subset.loadBalancer ?? base?.loadBalancer,
      connectionPool: subset.connectionPool ?? base?.connectionPool,
      outlierDetection: subset.outlierDetection ?? base?.outlierDetection,
      tls: subset.tls ?? base?.tls,
      portLevelSettings: subset.portLevelSettings,
    },
    port,
  )
}

const ms = (d: string | undefined) => (d === undefined ? undefined : durationMs(d))

/** Applies a DestinationRule traffic policy to a cluster: balancing, pool limits, ejection, tls. */
function applyPolicy(cluster: Cluster, policy: TrafficPolicy | undefined): void {
  const lb = policy?.loadBalancer
  if (lb?.consistentHash) {
    const h = lb.consistentHash
    cluster.lbPolicy = 'RING_HASH'
    if (h.httpHeaderName !== undefined) cluster.hashPolicy = { header: h.httpHeaderName }
    else if (h.httpCookie)
      cluster.hashPolicy = {
        cookie: {
          name: h.httpCookie.name,
          ...(h.httpCookie.ttl !== undefined ? { ttlMs: durationMs(h.httpCookie.ttl) } : {}),
          ...(h.httpCookie.path !== undefined ? { path: h.httpCookie.path } : {}),
        },
      }
    else if (h.useSourceIp !== undefined) cluster.hashPolicy = { sourceIp: h.useSourceIp }
    else if (h.httpQueryParameterName !== undefined)
      cluster.hashPolicy = { queryParameter: h.httpQueryParameterName }
  } else if (lb?.simple && lb.simple !== 'UNSPECIFIED') cluster.lbPolicy = lb.simple

  const tcp = policy?.connectionPool?.tcp
  const http = policy?.connectionPool?.http
  if (tcp?.connectTimeout !== undefined) cluster.connectTimeoutMs = durationMs(tcp.connectTimeout)
  if (http?.idleTimeout !== undefined) cluster.idleTimeoutMs = ms(http.idleTimeout)
  const breakers = {
    ...(tcp?.maxConnections !== undefined ? { maxConnections: tcp.maxConnections } : {}),
    ...(http?.http1MaxPendingRequests !== undefined
      ? { maxPendingRequests: http.http1MaxPendingRequests }
      : {}),
    ...(http?.http2MaxRequests !== undefined ? { maxRequests: http.http2MaxRequests } : {}),
    ...(http?.maxRetries !== undefined ? { maxRetries: http.maxRetries } : {}),
    ...(http?.maxRequestsPerConnection !== undefined
      ? { maxRequestsPerConnection: http.maxRequestsPerConnection }
      : {}),
  }
  if (Object.keys(breakers).length) cluster.circuitBreakers = breakers

  const od = policy?.outlierDetection
  if (od) {
    // Envoy's (and so Istio's) defaults: 5 consecutive 5xx, 10 s interval, 30 s ejection, 10 %.
    cluster.outlierDetection = {
      consecutive5xx: od.consecutive5xxErrors ?? 5,
      ...(od.consecutiveGatewayErrors !== undefined
        ? { consecutiveGatewayErrors: od.consecutiveGatewayErrors }
        : {}),
      intervalMs: ms(od.interval) ?? 10_000,
      baseEjectionTimeMs: ms(od.baseEjectionTime) ?? 30_000,
      maxEjectionPercent: od.maxEjectionPercent ?? 10,
      ...(od.minHealthPercent !== undefined ? { minHealthPercent: od.minHealthPercent } : {}),
    }
  }
  const tls = policy?.tls
  if (tls?.mode === 'DISABLE') cluster.tls = { mode: 'DISABLE' }
  else if (tls?.mode === 'ISTIO_MUTUAL')
    // Mesh mTLS with the workload certificate; the expected peer identity is each endpoint's
    // service account unless subjectAltNames name it.
    cluster.tls = {
      mode: 'ISTIO_MUTUAL',
      ...(tls.sni ? { sni: tls.sni } : {}),
      ...(tls.subjectAltNames?.length ? { subjectAltNames: tls.subjectAltNames } : {}),
    }
  else if (tls?.mode === 'SIMPLE' || tls?.mode === 'MUTUAL')
    cluster.tls = {
      mode: tls.mode,
      ...(tls.caCertificates ? { caCertificates: tls.caCertificates } : {}),
      ...(tls.mode === 'MUTUAL'
        ? { clientCertificate: tls.clientCertificate, privateKey: tls.privateKey }
        : {}),
      ...(tls.sni ? { sni: tls.sni } : {}),
      ...(tls.subjectAltNames?.length ? { subjectAltNames: tls.subjectAltNames } : {}),
      ...(tls.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
    }
}

function outboundCluster(
  service: Service,
  port: ServicePort,
  subset: string | undefined,
  policy: TrafficPolicy | undefined,
): Cluster {
  const cluster: Cluster = {
    name: outboundClusterName(port.port, subset, service.hostname),
    type: 'EDS',
    protocol: clusterProtocol(port.protocol),
    lbPolicy: DEFAULT_LB,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    service: {
      host: service.hostname,
      name: service.name,
      namespace: service.namespace,
      port: port.port,
      ...(subset !== undefined ? { subset } : {}),
    },
  }
  applyPolicy(cluster, policy)
  return cluster
}

/** A service's outbound clusters as seen from `ns`: one per port, and one per port and DestinationRule subset. */
export function serviceClusters(ctx: PushContext, ns: string, service: Service): Cluster[] {
  const rule = ctx.destinationRule(ns, service)
  const out: Cluster[] = []
  for (const port of service.ports) {
    out.push(outboundCluster(service, port, undefined, forPort(rule?.trafficPolicy, port.port)))
    for (const s of rule?.subsets ?? [])
      out.push(
        outboundCluster(service, port, s.name, mergePolicy(rule?.trafficPolicy, s.trafficPolicy, port.port)),
      )
  }
  return out
}

/** PassthroughCluster, InboundPassthroughCluster (original destination) and BlackHoleCluster (no endpoints). */
export function builtinClusters(): Cluster[] {
  const base = { protocol: 'tcp', lbPolicy: 'ROUND_ROBIN', connectTimeoutMs: CONNECT_TIMEOUT_MS } as const
  return [
    {
      name: BLACKHOLE_CLUSTER,
      type: 'STATIC',
      ...base,
      loadAssignment: { clusterName: BLACKHOLE_CLUSTER, endpoints: [] },
    },
    { name: INBOUND_PASSTHROUGH_CLUSTER, type: 'ORIGINAL_DST', ...base },
    { name: PASSTHROUGH_CLUSTER, type: 'ORIGINAL_DST', ...base },
  ]
}

/** `inbound|<port>||`: the app in the same pod, at 127.0.0.1:<port>. */
export function inboundCluster(
  port: number,
  protocol: Protocol,
  service: Service,
  servicePort: ServicePort,
): Cluster {
  const name = inboundClusterName(port)
  return {
    name,
    type: 'STATIC',
    protocol: clusterProtocol(protocol),
    lbPolicy: 'ROUND_ROBIN',
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    loadAssignment: { clusterName: name, endpoints: [{ address: '127.0.0.1', port, health: 'HEALTHY' }] },
    service: {
      host: service.hostname,
      name: service.name,
      namespace: service.namespace,
      port: servicePort.port,
    },
  }
}
