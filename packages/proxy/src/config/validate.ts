// Validation of one discovery response (or the static file) before it is accepted: every
// resource against its schema (@minimesh/api), unique names, and cross-references (routes and
// listeners must name clusters that exist). The first problem becomes the NACK's error_detail.
import {
  type Cluster,
  type ClusterLoadAssignment,
  formatPath,
  type HeaderOps,
  type Listener,
  type Route,
  type RouteConfiguration,
  resourceName,
  type Secret,
  TypeUrl,
  type VhdsVirtualHost,
  type VirtualHost,
  validateProxyResource,
} from '@minimesh/api/config'
import { ConfigError } from '../errors.ts'

/** Clusters a proxy always has, even when the control plane does not send them. */
export const BUILTIN_CLUSTERS: readonly Cluster[] = [
  {
    name: 'PassthroughCluster',
    type: 'ORIGINAL_DST',
    protocol: 'tcp',
    lbPolicy: 'ROUND_ROBIN',
    connectTimeoutMs: 10_000,
  },
  {
    name: 'InboundPassthroughCluster',
    type: 'ORIGINAL_DST',
    protocol: 'tcp',
    lbPolicy: 'ROUND_ROBIN',
    connectTimeoutMs: 10_000,
  },
  {
    name: 'BlackHoleCluster',
    type: 'STATIC',
    protocol: 'tcp',
    lbPolicy: 'ROUND_ROBIN',
    connectTimeoutMs: 10_000,
  },
]
const BUILTIN_NAMES = new Set(BUILTIN_CLUSTERS.map((c) => c.name))

const TYPE_LABEL: Record<TypeUrl, string> = {
  [TypeUrl.Listener]: 'Listener',
  [TypeUrl.RouteConfiguration]: 'RouteConfiguration',
  [TypeUrl.Cluster]: 'Cluster',
  [TypeUrl.ClusterLoadAssignment]: 'ClusterLoadAssignment',
  [TypeUrl.VirtualHost]: 'VirtualHost',
  [TypeUrl.Secret]: 'Secret',
}

/**
 * Checks the resources of one response (a full set, or an incremental response's added and
 * changed ones). `clusterNames` are the clusters that will exist once this is accepted. Throws
 * ConfigError naming resource and field.
 */
export function validateResources(
  typeUrl: TypeUrl,
  resources: readonly unknown[],
  clusterNames: ReadonlySet<string>,
): void {
  const label = TYPE_LABEL[typeUrl]
  const seen = new Set<string>()
  resources.forEach((r, i) => {
    const issues = validateProxyResource(typeUrl, r).filter((x) => x.severity !== 'warning')
    const name = r && typeof r === 'object' ? resourceName(typeUrl, r as Record<string, unknown>) : `#${i}`
    if (issues.length > 0) {
      const first = issues[0]!
      const path = formatPath(first.path)
      throw new ConfigError(
        name,
        `${label} ${name}: ${path ? `${path}: ` : ''}${first.message} [${first.code}]`,
      )
    }
    if (seen.has(name)) throw new ConfigError(name, `${label} ${name}: duplicate name`)
    seen.add(name)
  })
  const has = (c: string) => clusterNames.has(c) || BUILTIN_NAMES.has(c)
  // Every cluster a virtual host's routes name must exist; what routes write into requests and
  // responses must not break the message apart (header injection).
  const checkHost = (vh: VirtualHost, name: string, at: string) => {
    vh.routes.forEach((route, r) => {
      checkWrittenValues(route, (field, problem) => {
        throw new ConfigError(name, `${label} ${name}: ${at}routes[${r}].${field}: ${problem}`)
      })
      const where = `${label} ${name}: ${at}routes[${r}].route`
      route.route?.clusters.forEach((wc, c) => {
        if (!has(wc.name))
          throw new ConfigError(name, `${where}.clusters[${c}].name: unknown cluster ${wc.name}`)
      })
      const mirror = route.route?.mirror?.cluster
      if (mirror !== undefined && !has(mirror))
        throw new ConfigError(name, `${where}.mirror.cluster: unknown cluster ${mirror}`)
    })
  }
  if (typeUrl === TypeUrl.RouteConfiguration)
    for (const rc of resources as RouteConfiguration[])
      rc.virtualHosts.forEach((vh, v) => {
        checkHost(vh, rc.name, `virtualHosts[${v}].`)
      })
  if (typeUrl === TypeUrl.VirtualHost)
    for (const r of resources as VhdsVirtualHost[])
      checkHost(r.virtualHost, resourceName(typeUrl, r), 'virtualHost.')
  if (typeUrl === TypeUrl.Listener) {
    for (const l of resources as Listener[]) {
      const chains = l.defaultFilterChain ? [...l.filterChains, l.defaultFilterChain] : l.filterChains
      chains.forEach((fc, i) => {
        const at = i === l.filterChains.length ? 'defaultFilterChain' : `filterChains[${i}]`
        const c = fc.tcp?.cluster ?? fc.http?.cluster
        const field = fc.tcp ? 'tcp.cluster' : 'http.cluster'
        if (c !== undefined && !has(c))
          throw new ConfigError(l.name, `Listener ${l.name}: ${at}.${field}: unknown cluster ${c}`)
      })
    }
  }
}

/** A header name is a token (RFC 9110 §5.1); a value has no CR, LF or NUL (§5.5). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const BREAKS_VALUE = /[\r\n\0]/
/** A request target or authority the proxy writes: no whitespace or control characters either. */
const BREAKS_TARGET = /[\s\0]/

function checkOps(
  ops: HeaderOps | undefined,
  at: string,
  bad: (field: string, problem: string) => never,
): void {
  if (!ops) return
  for (const kind of ['set', 'add'] as const)
    for (const [k, v] of Object.entries(ops[kind] ?? {})) {
      if (!TOKEN.test(k)) bad(`${at}.${kind}`, `header name ${JSON.stringify(k)} is not a token`)
      if (BREAKS_VALUE.test(v)) bad(`${at}.${kind}.${k}`, 'header value contains CR, LF or NUL')
    }
  ;(ops.remove ?? []).forEach((k, i) => {
    if (!TOKEN.test(k)) bad(`${at}.remove[${i}]`, `header name ${JSON.stringify(k)} is not a token`)
  })
}

/** Header operations, rewrite and redirect values of a route (refused when they could inject). */
function checkWrittenValues(route: Route, bad: (field: string, problem: string) => never): void {
  checkOps(route.requestHeaders, 'requestHeaders', bad)
  checkOps(route.responseHeaders, 'responseHeaders', bad)
  route.route?.clusters.forEach((wc, c) => {
    checkOps(wc.requestHeaders, `route.clusters[${c}].requestHeaders`, bad)
    checkOps(wc.responseHeaders, `route.clusters[${c}].responseHeaders`, bad)
  })
  const rw = route.route?.rewrite
  if (rw?.uri !== undefined && BREAKS_TARGET.test(rw.uri))
    bad('route.rewrite.uri', 'contains whitespace or NUL')
  if (rw?.authority !== undefined && BREAKS_TARGET.test(rw.authority))
    bad('route.rewrite.authority', 'contains whitespace or NUL')
  const rd = route.redirect
  for (const f of ['host', 'path', 'scheme'] as const) {
    const v = rd?.[f]
    if (v !== undefined && BREAKS_TARGET.test(v)) bad(`redirect.${f}`, 'contains whitespace or NUL')
  }
}

/** The static configuration file's shape: arrays of config-model objects. */
export interface StaticConfig {
  listeners?: Listener[]
  routes?: RouteConfiguration[]
  /** Virtual hosts of `vhds` route configurations (rarely used in a static file: hosts can be inline). */
  virtualHosts?: VhdsVirtualHost[]
  clusters?: Cluster[]
  endpoints?: ClusterLoadAssignment[]
  /** Certificates of gateway TLS filter chains. */
  secrets?: Secret[]
}
