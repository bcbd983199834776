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
import { defineKind, type Resource } from './common.ts'

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

const tls = object(
  {
    mode: string({
      enum: ['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL'] as const,
      // The proxy speaks plain HTTP/1.1 upstream; until TLS origination lands, only DISABLE is honest.
      check(v, path, ctx) {
        if (v !== 'DISABLE')
          ctx.report(
            path,
            ApiErrorCode.Unimplemented,
            `tls mode ${v} is not implemented by minimesh (only DISABLE)`,
          )
      },
    }),
  },
  {
    unimplemented: [
      'clientCertificate',
      'privateKey',
      'caCertificates',
      'credentialName',
      'subjectAltNames',
      'sni',
      'insecureSkipVerify',
    ],
  },
)

const trafficPolicy = object(
  {
    loadBalancer: optional(loadBalancer),
    connectionPool: optional(connectionPool),
    outlierDetection: optional(outlierDetection),
    tls: optional(tls),
  },
  { unimplemented: ['portLevelSettings', 'tunnel', 'proxyProtocol'] },
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
export type DestinationRule = Resource<DestinationRuleSpec, 'DestinationRule'>

export const DestinationRuleKind = defineKind({
  group: 'networking.istio.io',
  kind: 'DestinationRule',
  plural: 'destinationrules',
  singular: 'destinationrule',
  shortNames: ['dr'],
  categories: ['minimesh-io', 'networking-istio-io'],
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  spec: destinationRuleSpec,
})
