import { ApiErrorCode } from '../errors.ts'
import {
  array,
  boolean,
  type Context,
  type FieldPath,
  type Infer,
  integer,
  object,
  optional,
  record,
  string,
} from '../schema/index.ts'
import { millis, percentage } from './common.ts'

/** TLS settings (a DestinationRule's or a cluster's): MUTUAL needs a client certificate and its key. */
export function requireMutualFiles(
  v: { mode: string; clientCertificate?: string | undefined; privateKey?: string | undefined },
  path: FieldPath,
  ctx: Context,
): void {
  if (v.mode !== 'MUTUAL') return
  for (const field of ['clientCertificate', 'privateKey'] as const)
    if (!v[field])
      ctx.report([...path, field], ApiErrorCode.Required, `field "${field}" is required when mode is MUTUAL`)
}

export const lbEndpoint = object({
  address: string(),
  port: integer({ min: 1, max: 65535 }),
  health: string({ enum: ['HEALTHY', 'UNHEALTHY', 'DRAINING'] as const }),
  weight: optional(integer({ min: 1 })),
  /** The pod's labels (subsets, metrics: app, version). */
  labels: optional(record(string())),
  pod: optional(string()),
  namespace: optional(string()),
  workload: optional(string()),
  serviceAccount: optional(string()),
  /**
   * 'istio': the endpoint's pod has a sidecar that accepts mesh mTLS on this port (auto mTLS:
   * a cluster without tls speaks mTLS to it, plaintext to the others). Istio's `tlsMode` label.
   */
  tlsMode: optional(string({ enum: ['istio'] as const })),
})
export type LbEndpoint = Infer<typeof lbEndpoint>

/** Endpoints of one cluster (Envoy's EDS resource). */
export const clusterLoadAssignment = object({
  clusterName: string(),
  endpoints: array(lbEndpoint),
})
export type ClusterLoadAssignment = Infer<typeof clusterLoadAssignment>

/**
 * An upstream cluster. Names follow Istio: `outbound|9080|v1|reviews.default.svc.cluster.local`,
 * `inbound|9080||`, `PassthroughCluster`, `InboundPassthroughCluster`, `BlackHoleCluster`.
 */
export const cluster = object({
  name: string(),
  /** EDS: endpoints come as a ClusterLoadAssignment; STATIC: inline `loadAssignment`; ORIGINAL_DST: the connection's own destination. */
  type: string({ enum: ['EDS', 'STATIC', 'ORIGINAL_DST'] as const }),
  protocol: string({ enum: ['http', 'http2', 'tcp'] as const }),
  lbPolicy: string({ enum: ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'RING_HASH'] as const }),
  hashPolicy: optional(
    object(
      {
        header: optional(string()),
        cookie: optional(object({ name: string(), ttlMs: optional(millis()), path: optional(string()) })),
        sourceIp: optional(boolean()),
        queryParameter: optional(string()),
      },
      { oneOf: ['header', 'cookie', 'sourceIp', 'queryParameter'], oneOfRequired: true },
    ),
  ),
  connectTimeoutMs: millis(),
  idleTimeoutMs: optional(millis()),
  circuitBreakers: optional(
    object({
      maxConnections: optional(integer({ min: 1 })),
      maxPendingRequests: optional(integer({ min: 1 })),
      maxRequests: optional(integer({ min: 1 })),
      maxRetries: optional(integer({ min: 0 })),
      /** 0 or absent: unlimited. */
      maxRequestsPerConnection: optional(integer({ min: 0 })),
    }),
  ),
  outlierDetection: optional(
    object({
      consecutive5xx: optional(integer({ min: 0 })),
      consecutiveGatewayErrors: optional(integer({ min: 0 })),
      intervalMs: millis(),
      baseEjectionTimeMs: millis(),
      maxEjectionPercent: percentage(),
      minHealthPercent: optional(percentage()),
    }),
  ),
  /**
   * TLS the proxy originates to this cluster's endpoints (a DestinationRule's `tls`). Paths are
   * PEM files in the proxy's file system, read when the configuration is applied. ISTIO_MUTUAL:
   * mesh mTLS to every endpoint with the workload certificate (no files); DISABLE: plaintext to
   * every endpoint, even sidecars (no auto mTLS); absent: auto mTLS by the endpoints' tlsMode.
   */
  tls: optional(
    object(
      {
        mode: string({ enum: ['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL'] as const }),
        /** CA bundle verifying the server; absent = the system's roots. */
        caCertificates: optional(string()),
        clientCertificate: optional(string()),
        privateKey: optional(string()),
        /** SNI (and the name verified when no subjectAltNames); absent = the service's host. */
        sni: optional(string()),
        /** The server certificate must carry one of these SANs. */
        subjectAltNames: optional(array(string())),
        insecureSkipVerify: optional(boolean()),
      },
      {
        check: requireMutualFiles,
      },
    ),
  ),
  /** Endpoints of a STATIC cluster (inbound clusters: 127.0.0.1:port). */
  loadAssignment: optional(clusterLoadAssignment),
  /** The service behind an outbound cluster, for metrics and logs. */
  service: optional(
    object({
      host: string(),
      name: string(),
      namespace: string(),
      port: integer({ min: 1, max: 65535 }),
      subset: optional(string()),
    }),
  ),
})
export type Cluster = Infer<typeof cluster>
export type ClusterTls = NonNullable<Cluster['tls']>
