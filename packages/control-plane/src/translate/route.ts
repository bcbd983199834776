import {
  durationMs,
  type HeaderMatch,
  type HeaderOps,
  type HTTPMatchRequest,
  type HTTPRetry,
  type HTTPRoute,
  type HTTPRouteDestination,
  type KeyValueMatcher,
  type RetryPolicy,
  type Route,
  type RouteMatch,
  type StringMatch,
  type StringMatcher,
  type VirtualService,
  type WeightedCluster,
} from '@minimesh/api'
import { resolveHost } from '../registry/hosts.ts'
import type { Registry } from '../registry/registry.ts'
import { BLACKHOLE_CLUSTER, namespacedName, nsOf, outboundClusterName } from './names.ts'

/** Where routes are being built: for sidecars (`mesh`) or one gateway, on one port. */
export interface RouteScope {
  /** `mesh`, or the gateway's `ns/name`. */
  gateway: string
  /** Port of the route configuration (outbound service port or gateway server port). */
  port: number
  /** Clusters the proxy is sent; a destination outside them goes to BlackHoleCluster. */
  clusters: ReadonlySet<string>
  registry: Registry
}

/**
 * minimesh's default retry policy (the contract): 2 retries on connect failure, refused stream or
 * reset, for every route whose VirtualService sets no retries.
 */
const DEFAULT_RETRY: RetryPolicy = {
  attempts: 2,
  retryOn: ['connect-failure', 'refused-stream', 'reset'],
}

/** The route a service without a VirtualService gets: everything to its own cluster. */
export function defaultRoute(cluster: string): Route {
  return {
    name: 'default',
    match: { path: { prefix: '/' } },
    route: { clusters: [{ name: cluster, weight: 100 }], retry: DEFAULT_RETRY },
  }
}

function stringMatcher(m: StringMatch | HeaderMatch, ignoreCase?: boolean): StringMatcher {
  const ic = ignoreCase ? { ignoreCase: true } : {}
  if (m.exact !== undefined) return { exact: m.exact, ...ic }
  if (m.prefix !== undefined) return { prefix: m.prefix, ...ic }
  if (m.regex !== undefined) return { regex: m.regex, ...ic }
  return { present: true }
}

function keyValues(
  map: Record<string, HeaderMatch> | undefined,
  invert: boolean,
  lower: boolean,
): KeyValueMatcher[] {
  return Object.keys(map ?? {})
    .sort()
    .map((k) => ({
      name: lower ? k.toLowerCase() : k,
      match: stringMatcher(map![k]!),
      ...(invert ? { invert: true } : {}),
    }))
}

function routeMatch(m: HTTPMatchRequest | undefined): RouteMatch {
  if (!m) return { path: { prefix: '/' } }
  const headers = [...keyValues(m.headers, false, true), ...keyValues(m.withoutHeaders, true, true)]
  const query = keyValues(m.queryParams, false, false)
  return {
    path: m.uri ? stringMatcher(m.uri, m.ignoreUriCase) : { prefix: '/' },
    ...(headers.length ? { headers } : {}),
    ...(query.length ? { queryParams: query } : {}),
    ...(m.method ? { method: stringMatcher(m.method) } : {}),
    ...(m.authority ? { authority: stringMatcher(m.authority) } : {}),
    ...(m.sourceLabels && Object.keys(m.sourceLabels).length ? { sourceLabels: m.sourceLabels } : {}),
    ...(m.sourceNamespace ? { sourceNamespace: m.sourceNamespace } : {}),
  }
}

function retryPolicy(r: HTTPRetry | undefined): RetryPolicy | undefined {
  if (!r) return DEFAULT_RETRY
  if (r.attempts === 0) return undefined
  const conditions = (r.retryOn ?? '').split(',').filter(Boolean)
  const codes = conditions.filter((c) => /^[0-9]+$/.test(c)).map(Number)
  const named = conditions.filter((c) => !/^[0-9]+$/.test(c))
  if (codes.length && !named.includes('retriable-status-codes')) named.push('retriable-status-codes')
  return {
    attempts: r.attempts,
    retryOn: named.length ? named : DEFAULT_RETRY.retryOn,
    ...(codes.length ? { retriableStatusCodes: codes } : {}),
    ...(r.perTryTimeout !== undefined ? { perTryTimeoutMs: durationMs(r.perTryTimeout) } : {}),
  }
}

function headerOps(
  h: { set?: Record<string, string>; add?: Record<string, string>; remove?: string[] } | undefined,
): HeaderOps | undefined {
  if (!h || (!h.set && !h.add && !h.remove)) return undefined
  return {
    ...(h.set ? { set: h.set } : {}),
    ...(h.add ? { add: h.add } : {}),
    ...(h.remove ? { remove: h.remove } : {}),
  }
}

/** The cluster a VirtualService destination names, or BlackHoleCluster when the proxy has no such cluster. */
function destinationCluster(
  dest: { host: string; subset?: string; port?: { number: number } },
  vsNamespace: string,
  scope: RouteScope,
): string {
  const host = resolveHost(dest.host, vsNamespace)
  const svc = scope.registry.service(host)
  const port = dest.port?.number ?? (svc?.ports.length === 1 ? svc.ports[0]!.port : scope.port)
  const name = outboundClusterName(port, dest.subset, host)
  return scope.clusters.has(name) ? name : BLACKHOLE_CLUSTER
}

function weightedClusters(dests: HTTPRouteDestination[], ns: string, scope: RouteScope): WeightedCluster[] {
  const anyWeight = dests.some((d) => d.weight !== undefined)
  const out: WeightedCluster[] = []
  for (const d of dests) {
    // One destination takes everything; several share by relative weight (unset: 0, or equal when none is set).
    const weight = dests.length === 1 ? 100 : anyWeight ? (d.weight ?? 0) : 1
    if (weight === 0) continue
    const req = headerOps(d.headers?.request)
    const res = headerOps(d.headers?.response)
    out.push({
      name: destinationCluster(d.destination, ns, scope),
      weight,
      ...(req ? { requestHeaders: req } : {}),
      ...(res ? { responseHeaders: res } : {}),
    })
  }
  return out
}

function normalizeGateway(g: string, ns: string): string {
  return g === 'mesh' || g.includes('/') ? g : `${ns}/${g}`
}

/** The matches of an HTTP route that apply in this scope; undefined when the route does not apply at all. */
function matchesInScope(
  http: HTTPRoute,
  vs: VirtualService,
  scope: RouteScope,
): (HTTPMatchRequest | undefined)[] | undefined {
  const ns = nsOf(vs)
  const vsGateways = (vs.spec.gateways?.length ? vs.spec.gateways : ['mesh']).map((g) =>
    normalizeGateway(g, ns),
  )
  if (!http.match?.length) return vsGateways.includes(scope.gateway) ? [undefined] : undefined
  const kept = http.match.filter((m) => {
    const gws = m.gateways?.length ? m.gateways.map((g) => normalizeGateway(g, ns)) : vsGateways
    return gws.includes(scope.gateway) && (m.port === undefined || m.port === scope.port)
  })
  return kept.length ? kept : undefined
}

/** Translates a VirtualService's HTTP routes for one scope, in order (the first match wins). */
export function virtualServiceRoutes(vs: VirtualService, scope: RouteScope): Route[] {
  const ns = nsOf(vs)
  const out: Route[] = []
  for (const http of vs.spec.http ?? []) {
    const matches = matchesInScope(http, vs, scope)
    if (!matches) continue
    const name = `${namespacedName(vs.metadata)}${http.name ? `/${http.name}` : ''}`
    const common: Omit<Route, 'match'> = {}
    if (http.redirect) {
      const r = http.redirect
      common.redirect = {
        ...(r.uri !== undefined ? { path: r.uri } : {}),
        ...(r.authority !== undefined ? { host: r.authority } : {}),
        ...(r.port !== undefined ? { port: r.port } : {}),
        ...(r.scheme !== undefined ? { scheme: r.scheme } : {}),
        code: r.redirectCode ?? 301,
      }
    } else if (http.directResponse) {
      const d = http.directResponse
      common.directResponse = {
        status: d.status,
        ...(d.body?.string !== undefined ? { body: d.body.string } : {}),
      }
    } else if (http.route) {
      const retry = retryPolicy(http.retries)
      common.route = {
        clusters: weightedClusters(http.route, ns, scope),
        ...(http.timeout !== undefined ? { timeoutMs: durationMs(http.timeout) } : {}),
        ...(retry ? { retry } : {}),
        ...(http.rewrite && (http.rewrite.uri !== undefined || http.rewrite.authority !== undefined)
          ? { rewrite: { ...http.rewrite } }
          : {}),
        ...(http.mirror
          ? {
              mirror: {
                cluster: destinationCluster(http.mirror, ns, scope),
                percent: http.mirrorPercentage?.value ?? 100,
              },
            }
          : {}),
      }
      if (common.route.clusters.length === 0)
        common.route.clusters = [{ name: BLACKHOLE_CLUSTER, weight: 100 }]
    }
    const f = http.fault
    if (f?.delay || f?.abort) {
      // Istio: a fault without a percentage applies to no request (Envoy's default of 0 %).
      common.fault = {
        ...(f.delay
          ? {
              delay: {
                fixedDelayMs: durationMs(f.delay.fixedDelay),
                percent: f.delay.percentage?.value ?? f.delay.percent ?? 0,
              },
            }
          : {}),
        ...(f.abort
          ? { abort: { httpStatus: f.abort.httpStatus, percent: f.abort.percentage?.value ?? 0 } }
          : {}),
      }
    }
    const req = headerOps(http.headers?.request)
    const res = headerOps(http.headers?.response)
    if (req) common.requestHeaders = req
    if (res) common.responseHeaders = res
    for (const m of matches) out.push({ name, match: routeMatch(m), ...common })
  }
  return out
}
