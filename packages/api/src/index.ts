export * from './analyze/index.ts'
export * from './coded-error.ts'
export type {
  Authorization,
  AuthzMatch,
  AuthzPolicy,
  AuthzRule,
  AuthzString,
  Cluster,
  ClusterLoadAssignment,
  DownstreamTls,
  FilterChain,
  HeaderOps,
  KeyValueMatcher,
  LbEndpoint,
  Listener,
  QuotaRule,
  RetryPolicy,
  Route,
  RouteAction,
  RouteConfiguration,
  RouteMatch,
  Secret,
  StringMatcher,
  TlsVersion,
  VhdsVirtualHost,
  VirtualHost,
  WeightedCluster,
} from './config/index.ts'
export * as config from './config/index.ts'
export {
  assembleRouteConfigurations,
  resourceName,
  TYPE_ORDER,
  TypeUrl,
  validateProxyResource,
} from './config/index.ts'
export * from './crd.ts'
export * from './discovery/proto.ts'
export * from './discovery/resource.ts'
export * from './errors.ts'
export * from './finding.ts'
export * from './ports.ts'
export * from './quota/expression.ts'
export * from './resources/index.ts'
export type { FieldPath, Issue, OpenApiSchema, Schema } from './schema/index.ts'
export { durationMs, formatPath, parseDuration } from './schema/index.ts'
export * from './status.ts'
export * from './unimplemented.ts'
export * from './validate.ts'
export * from './workload-policy.ts'
export * from './yaml/load.ts'
