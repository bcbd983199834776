import { array, boolean, type Infer, integer, object, optional, record, string } from '../schema/index.ts'
import { headerOps, keyValueMatcher, millis, percentage, stringMatcher } from './common.ts'

export const routeMatch = object({
  /** Path match; with `prefix`, a rewrite replaces the matched prefix (Istio's rule). */
  path: optional(stringMatcher),
  headers: optional(array(keyValueMatcher)),
  queryParams: optional(array(keyValueMatcher)),
  method: optional(stringMatcher),
  authority: optional(stringMatcher),
  /** Labels the calling workload must have (matched by the client-side proxy against its own labels). */
  sourceLabels: optional(record(string())),
  sourceNamespace: optional(string()),
  /** Gateway listener port, for routes bound to a Gateway. */
  port: optional(integer({ min: 1, max: 65535 })),
})
export type RouteMatch = Infer<typeof routeMatch>

export const weightedCluster = object({
  name: string(),
  weight: integer({ min: 0 }),
  requestHeaders: optional(headerOps),
  responseHeaders: optional(headerOps),
})
export type WeightedCluster = Infer<typeof weightedCluster>

export const retryPolicy = object({
  /** Retries after the first try (Istio's `attempts`). */
  attempts: integer({ min: 0 }),
  perTryTimeoutMs: optional(millis()),
  /**
   * Conditions: 5xx, gateway-error, connect-failure, refused-stream, reset, retriable-4xx,
   * retriable-status-codes; gRPC (the grpc-status of a trailers-only response): cancelled,
   * deadline-exceeded, internal, resource-exhausted, unavailable.
   */
  retryOn: array(string()),
  retriableStatusCodes: optional(array(integer({ min: 100, max: 599 }))),
  /** First backoff interval; later ones grow, with jitter. */
  baseIntervalMs: optional(millis()),
})
export type RetryPolicy = Infer<typeof retryPolicy>

export const routeAction = object({
  /** Relative weights, drawn per request. A single destination has one entry. */
  clusters: array(weightedCluster, { minItems: 1 }),
  /** 0 or absent: no timeout. */
  timeoutMs: optional(millis()),
  retry: optional(retryPolicy),
  rewrite: optional(object({ uri: optional(string()), authority: optional(string()) })),
  mirror: optional(object({ cluster: string(), percent: percentage() })),
})
export type RouteAction = Infer<typeof routeAction>

export const route = object(
  {
    /** `<namespace>/<VirtualService name>[/<http route name>]`, for logs and /config_dump. */
    name: optional(string()),
    match: routeMatch,
    route: optional(routeAction),
    redirect: optional(
      object({
        path: optional(string()),
        host: optional(string()),
        port: optional(integer({ min: 1, max: 65535 })),
        scheme: optional(string()),
        code: integer({ min: 300, max: 399 }),
      }),
    ),
    directResponse: optional(object({ status: integer({ min: 200, max: 599 }), body: optional(string()) })),
    fault: optional(
      object({
        delay: optional(object({ fixedDelayMs: millis(), percent: percentage() })),
        abort: optional(object({ httpStatus: integer({ min: 200, max: 599 }), percent: percentage() })),
      }),
    ),
    requestHeaders: optional(headerOps),
    responseHeaders: optional(headerOps),
  },
  { oneOf: ['route', 'redirect', 'directResponse'], oneOfRequired: true },
)
export type Route = Infer<typeof route>

export const virtualHost = object({
  /** e.g. `reviews.default.svc.cluster.local:9080`. */
  name: string(),
  /** Host header values (with and without port), ClusterIP and ClusterIP:port; `*` = any. */
  domains: array(string(), { minItems: 1 }),
  /** Ordered; the first whose match holds wins. */
  routes: array(route),
})
export type VirtualHost = Infer<typeof virtualHost>

/** Routes for one outbound port (`9080`) or gateway server (`http.8080`). */
export const routeConfiguration = object({
  name: string(),
  virtualHosts: array(virtualHost, { uniqueBy: (v) => v.name, uniqueWhat: 'virtual host name' }),
  /**
   * More virtual hosts arrive as VirtualHost resources naming this configuration (Envoy's VHDS):
   * they come before `virtualHosts`, which then holds only the fallbacks (`*`). A sidecar's
   * outbound configurations use it, so that one service's routing change is sent as that one host.
   */
  vhds: optional(boolean()),
})
export type RouteConfiguration = Infer<typeof routeConfiguration>

/** A virtual host delivered on its own (VHDS), named `<routeConfiguration>/<virtualHost.name>`. */
export const vhdsVirtualHost = object({
  routeConfiguration: string(),
  virtualHost,
})
export type VhdsVirtualHost = Infer<typeof vhdsVirtualHost>

/**
 * Route configurations as a proxy uses them: each one with `vhds` gets the separately sent virtual
 * hosts that name it, in the order given, before its own (fallback) hosts; `vhds` is dropped.
 */
export function assembleRouteConfigurations(
  routes: Iterable<RouteConfiguration>,
  virtualHosts: Iterable<VhdsVirtualHost>,
): RouteConfiguration[] {
  const byConfig = new Map<string, VirtualHost[]>()
  for (const v of virtualHosts) {
    const list = byConfig.get(v.routeConfiguration)
    if (list) list.push(v.virtualHost)
    else byConfig.set(v.routeConfiguration, [v.virtualHost])
  }
  return [...routes].map(({ vhds, ...rc }) =>
    vhds ? { ...rc, virtualHosts: [...(byConfig.get(rc.name) ?? []), ...rc.virtualHosts] } : rc,
  )
}
