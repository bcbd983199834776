import type { Issue, Schema } from '../schema/index.ts'
import { checkValue } from '../schema/index.ts'
import { cluster, clusterLoadAssignment } from './cluster.ts'
import { listener } from './listener.ts'
import { routeConfiguration, vhdsVirtualHost } from './route.ts'
import { secret } from './secret.ts'

export * from './authorization.ts'
export * from './cluster.ts'
export * from './common.ts'
export * from './listener.ts'
export * from './quota.ts'
export * from './route.ts'
export * from './secret.ts'

/** Type URLs of the resource kinds the control plane sends (Envoy's, in minimesh's own package). */
export const TypeUrl = {
  Listener: 'type.minimesh.dev/minimesh.config.v1.Listener',
  RouteConfiguration: 'type.minimesh.dev/minimesh.config.v1.RouteConfiguration',
  Cluster: 'type.minimesh.dev/minimesh.config.v1.Cluster',
  ClusterLoadAssignment: 'type.minimesh.dev/minimesh.config.v1.ClusterLoadAssignment',
  /** Virtual hosts of route configurations with `vhds` (VhdsVirtualHost). */
  VirtualHost: 'type.minimesh.dev/minimesh.config.v1.VirtualHost',
  /** Certificates gateways terminate TLS with (sent to gateway proxies only). */
  Secret: 'type.minimesh.dev/minimesh.config.v1.Secret',
} as const
export type TypeUrl = (typeof TypeUrl)[keyof typeof TypeUrl]

/**
 * The order a proxy applies them in (as Envoy: clusters and endpoints before listeners and routes,
 * secrets before the listeners that name them, and a route configuration before its separately
 * sent virtual hosts).
 */
export const TYPE_ORDER: readonly TypeUrl[] = [
  TypeUrl.Cluster,
  TypeUrl.ClusterLoadAssignment,
  TypeUrl.Secret,
  TypeUrl.Listener,
  TypeUrl.RouteConfiguration,
  TypeUrl.VirtualHost,
]

const SCHEMAS: Record<TypeUrl, Schema<unknown>> = {
  [TypeUrl.Listener]: listener,
  [TypeUrl.RouteConfiguration]: routeConfiguration,
  [TypeUrl.Cluster]: cluster,
  [TypeUrl.ClusterLoadAssignment]: clusterLoadAssignment,
  [TypeUrl.VirtualHost]: vhdsVirtualHost,
  [TypeUrl.Secret]: secret,
}

/**
 * The name a resource is known by in its type (listener/route/cluster name; a CLA's clusterName;
 * `<routeConfiguration>/<name>` for a separately sent virtual host).
 */
export function resourceName(typeUrl: TypeUrl, resource: Record<string, unknown>): string {
  if (typeUrl === TypeUrl.ClusterLoadAssignment) return String(resource.clusterName)
  if (typeUrl === TypeUrl.VirtualHost)
    return `${resource.routeConfiguration}/${(resource.virtualHost as { name?: unknown } | undefined)?.name}`
  return String(resource.name)
}

/** Validates one proxy configuration resource; a proxy NACKs with these issues. */
export function validateProxyResource(typeUrl: string, value: unknown): Issue[] {
  const schema = SCHEMAS[typeUrl as TypeUrl]
  if (!schema) return [{ path: [], code: 'MESH_ERR_API_KIND', message: `unknown type_url ${typeUrl}` }]
  return checkValue(schema, value)
}
