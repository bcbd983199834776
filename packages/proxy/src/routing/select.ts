// Route selection: a RouteConfiguration compiled into a virtual-host lookup (exact domains in a
// Map, then `*.suffix`, then `prefix.*`, then `*`, Envoy's order) and ordered routes whose
// matchers were built once. Weighted destinations are drawn per request.
import type { Route, RouteConfiguration, VirtualHost, WeightedCluster } from '@minimesh/api'
import { type CompiledHeaderOps, compileHeaderOps } from '../http/headers.ts'
import { type CompiledRetry, compileRetry } from '../http/retry.ts'
import { compileRouteMatch, type RequestView, type SourceIdentity, stripPort } from './match.ts'

export interface CompiledWeighted {
  name: string
  weight: number
  requestHeaders: CompiledHeaderOps | undefined
  responseHeaders: CompiledHeaderOps | undefined
}

export interface CompiledRoute {
  /** Route name (VirtualService), or `<vhost>#<index>`. */
  name: string
  raw: Route
  test: (view: RequestView) => boolean
  pathPrefix: string | undefined
  /** Weighted destinations (route action), with cumulative weights for the draw. */
  clusters: CompiledWeighted[]
  cumulative: number[]
  totalWeight: number
  requestHeaders: CompiledHeaderOps | undefined
  responseHeaders: CompiledHeaderOps | undefined
  retry: CompiledRetry | undefined
}

export interface CompiledVirtualHost {
  name: string
  domains: string[]
  routes: CompiledRoute[]
}

export interface CompiledRouteConfig {
  name: string
  raw: RouteConfiguration
  exact: Map<string, CompiledVirtualHost>
  /** `*.example.com` → '.example.com', longest first. */
  suffixes: [string, CompiledVirtualHost][]
  /** `example.*` → 'example.', longest first. */
  prefixes: [string, CompiledVirtualHost][]
  any: CompiledVirtualHost | undefined
}

function compileWeighted(w: WeightedCluster): CompiledWeighted {
  return {
    name: w.name,
    weight: w.weight,
    requestHeaders: compileHeaderOps(w.requestHeaders),
    responseHeaders: compileHeaderOps(w.responseHeaders),
  }
}

function compileRoute(route: Route, fallbackName: string, source: SourceIdentity): CompiledRoute | undefined {
  const m = compileRouteMatch(route.match, source)
  if (!m) return undefined
  const clusters = (route.route?.clusters ?? []).map(compileWeighted)
  const cumulative: number[] = []
  let total = 0
  for (const c of clusters) {
    total += c.weight
    cumulative.push(total)
  }
  return {
    name: route.name ?? fallbackName,
    raw: route,
    test: m.test,
    pathPrefix: m.pathPrefix,
    clusters,
    cumulative,
    totalWeight: total,
    requestHeaders: compileHeaderOps(route.requestHeaders),
    responseHeaders: compileHeaderOps(route.responseHeaders),
    retry: compileRetry(route.route?.retry),
  }
}

/** Compiled virtual hosts by their (accepted, unchanging) configuration object, for one source identity. */
export type VirtualHostCache = WeakMap<VirtualHost, CompiledVirtualHost>

function compileVirtualHost(vh: VirtualHost, source: SourceIdentity): CompiledVirtualHost {
  const routes: CompiledRoute[] = []
  vh.routes.forEach((r, i) => {
    const c = compileRoute(r, `${vh.name}#${i}`, source)
    if (c) routes.push(c)
  })
  return { name: vh.name, domains: vh.domains, routes }
}

/**
 * Compiles a RouteConfiguration for this proxy (routes whose source conditions fail are dropped).
 * With `cache`, a virtual host object compiled before (for the same source) is reused.
 */
export function compileRouteConfig(
  rc: RouteConfiguration,
  source: SourceIdentity,
  cache?: VirtualHostCache,
): CompiledRouteConfig {
  const out: CompiledRouteConfig = {
    name: rc.name,
    raw: rc,
    exact: new Map(),
    suffixes: [],
    prefixes: [],
    any: undefined,
  }
  for (const vh of rc.virtualHosts) {
    let cvh = cache?.get(vh)
    if (!cvh) {
      cvh = compileVirtualHost(vh, source)
      cache?.set(vh, cvh)
    }
    for (const d of vh.domains) {
      const domain = d.toLowerCase()
      if (domain === '*') out.any ??= cvh
      else if (domain.startsWith('*')) out.suffixes.push([domain.slice(1), cvh])
      else if (domain.endsWith('*')) out.prefixes.push([domain.slice(0, -1), cvh])
      else if (!out.exact.has(domain)) out.exact.set(domain, cvh)
    }
  }
  out.suffixes.sort((a, b) => b[0].length - a[0].length)
  out.prefixes.sort((a, b) => b[0].length - a[0].length)
  return out
}

function lookup(rc: CompiledRouteConfig, host: string): CompiledVirtualHost | undefined {
  const hit = rc.exact.get(host)
  if (hit) return hit
  for (const [suffix, vh] of rc.suffixes) if (host.endsWith(suffix) && host.length > suffix.length) return vh
  for (const [prefix, vh] of rc.prefixes)
    if (host.startsWith(prefix) && host.length > prefix.length) return vh
  return undefined
}

/**
 * The virtual host for a request: by Host header (as sent, then without its port), else by the
 * original destination address (`ip:port`, then `ip`), else the `*` host.
 */
export function findVirtualHost(
  rc: CompiledRouteConfig,
  authority: string,
  originalIp?: string,
  originalPort?: number,
): CompiledVirtualHost | undefined {
  if (authority) {
    const host = authority.toLowerCase()
    const vh = lookup(rc, host) ?? lookup(rc, stripPort(host))
    if (vh) return vh
  }
  if (originalIp) {
    const vh = rc.exact.get(`${originalIp}:${originalPort}`) ?? rc.exact.get(originalIp)
    if (vh) return vh
  }
  return rc.any
}

/** The first route of the virtual host that matches; undefined = no route (404 NR). */
export function findRoute(vh: CompiledVirtualHost, view: RequestView): CompiledRoute | undefined {
  for (const r of vh.routes) if (r.test(view)) return r
  return undefined
}

/** Draws a destination by relative weight (all-zero weights: the first one). */
export function pickWeighted(
  route: CompiledRoute,
  random: () => number = Math.random,
): CompiledWeighted | undefined {
  const n = route.clusters.length
  if (n <= 1 || route.totalWeight === 0) return route.clusters[0]
  const x = random() * route.totalWeight
  for (let i = 0; i < n; i++) if (x < route.cumulative[i]!) return route.clusters[i]
  return route.clusters[n - 1]
}
