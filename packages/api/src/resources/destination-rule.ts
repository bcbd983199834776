import { requireMutualFiles } from '../config/cluster.ts'
import { ApiErrorCode } from '../errors.ts'
import {
  array,
  boolean,
  duration,
  type Infer,
  integer,
  object,
  optional,
  record,
  string,
} from '../schema/index.ts'
import { defineKind, NETWORKING_ISTIO_IO, type Resource } from './common.ts'

const loadBalancer = object(
  {
    simple: optional(string({ enum: ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'UNSPECIFIED'] as const })),
    consistentHash: optional(
      object(
        {
          httpHeaderName: optional(string()),
          httpCookie: optional(
            object({ name: string(), path: optional(string()), ttl: optional(duration()) }),
          ),
          useSourceIp: optional(boolean()),
          httpQueryParameterName: optional(string()),
        },
        {
          oneOf: ['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'],
          oneOfRequired: true,
          unimplemented: ['ringHash', 'maglev', 'minimumRingSize'],
        },
      ),
    ),
  },
  {
    oneOf: ['simple', 'consistentHash'],
    unimplemented: ['localityLbSetting', 'warmupDurationSecs', 'warmup'],
  },
)

const connectionPool = object({
  tcp: optional(
    object(
      { maxConnections: optional(integer({ min: 1 })), connectTimeout: optional(duration()) },
      { unimplemented: ['tcpKeepalive', 'maxConnectionDuration', 'idleTimeout'] },
    ),
  ),
  http: optional(
    object(
      {
        http1MaxPendingRequests: optional(integer({ min: 1 })),
        http2MaxRequests: optional(integer({ min: 1 })),
        maxRequestsPerConnection: optional(integer({ min: 0 })),
        maxRetries: optional(integer({ min: 0 })),
        idleTimeout: optional(duration()),
      },
      { unimplemented: ['h2UpgradePolicy', 'useClientProtocol', 'maxConcurrentStreams'] },
    ),
  ),
})

const outlierDetection = object(
  {
    consecutive5xxErrors: optional(integer({ min: 0 })),
    consecutiveGatewayErrors: optional(integer({ min: 0 })),
    interval: optional(duration()),
    baseEjectionTime: optional(duration()),
    maxEjectionPercent: optional(integer({ min: 0, max: 100 })),
    minHealthPercent: optional(integer({ min: 0, max: 100 })),
  },
  {
    unimplemented: ['consecutiveErrors', 'consecutiveLocalOriginFailures', 'splitExternalLocalOriginErrors'],
  },
)

const TLS_FILE_HINT = 'a file path inside the sidecar'

/**
 * Istio's ClientTLSSettings: TLS the proxy originates to the destination. Certificates and keys
 * are PEM files the sidecar can read (mounted into it); they are read when the proxy applies the
 * configuration.
 */
const tls = object(
  {
    /** ISTIO_MUTUAL: the mesh's own mTLS, with the workload certificate from meshd's CA. */
    mode: string({ enum: ['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL'] as const }),
    /** PEM CA bundle that verifies the server's certificate; absent = the system's trusted roots. */
    caCertificates: optional(string({ description: `PEM CA certificates (${TLS_FILE_HINT}).` })),
    /** PEM client certificate (MUTUAL). */
    clientCertificate: optional(string({ description: `PEM client certificate (${TLS_FILE_HINT}).` })),
    /** PEM private key of the client certificate (MUTUAL). */
    privateKey: optional(string({ description: `PEM private key (${TLS_FILE_HINT}).` })),
    sni: optional(string()),
    subjectAltNames: optional(array(string())),
    insecureSkipVerify: optional(boolean()),
  },
  {
    unimplemented: ['credentialName', 'caCrl'],
    check(v, path, ctx) {
      requireMutualFiles(v, path, ctx)
      if (v.mode !== 'ISTIO_MUTUAL') return
      for (const field of ['caCertificates', 'clientCertificate', 'privateKey'] as const)
        if (v[field])
          ctx.report(
            [...path, field],
            ApiErrorCode.OneOf,
            `field "${field}" cannot be set with mode ISTIO_MUTUAL: the mesh certificate and roots are used`,
          )
    },
  },
)

const policyParts = {
  loadBalancer: optional(loadBalancer),
  connectionPool: optional(connectionPool),
  outlierDetection: optional(outlierDetection),
  tls: optional(tls),
}

/** Settings for one port of the destination; they replace the policy's (unset parts take defaults). */
const portTrafficPolicy = object({
  port: object({ number: integer({ min: 1, max: 65535 }) }),
  ...policyParts,
})

const trafficPolicy = object(
  {
    ...policyParts,
    portLevelSettings: optional(
      array(portTrafficPolicy, { uniqueBy: (p) => String(p.port.number), uniqueWhat: 'port number' }),
    ),
  },
  { unimplemented: ['tunnel', 'proxyProtocol'] },
)

const subset = object({
  name: string({ pattern: /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, patternHint: 'a subset name' }),
  labels: optional(record(string())),
  trafficPolicy: optional(trafficPolicy),
})

export const destinationRuleSpec = object(
  {
    host: string(),
    trafficPolicy: optional(trafficPolicy),
    subsets: optional(array(subset, { uniqueBy: (s) => s.name, uniqueWhat: 'subset name' })),
    exportTo: optional(array(string({ enum: ['*', '.'] }))),
  },
  { unimplemented: ['workloadSelector'] },
)

export type DestinationRuleSpec = Infer<typeof destinationRuleSpec>
export type TrafficPolicy = Infer<typeof trafficPolicy>
export type LoadBalancerSettings = Infer<typeof loadBalancer>
export type ConnectionPoolSettings = Infer<typeof connectionPool>
export type OutlierDetection = Infer<typeof outlierDetection>
export type Subset = Infer<typeof subset>
export type PortTrafficPolicy = Infer<typeof portTrafficPolicy>
export type ClientTlsSettings = Infer<typeof tls>
export type DestinationRule = Resource<DestinationRuleSpec, 'DestinationRule'>

export const DestinationRuleKind = defineKind({
  ...NETWORKING_ISTIO_IO,
  kind: 'DestinationRule',
  plural: 'destinationrules',
  singular: 'destinationrule',
  shortNames: ['dr'],
  spec: destinationRuleSpec,
})
