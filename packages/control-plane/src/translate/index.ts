import {
  assembleRouteConfigurations,
  type Cluster,
  type ClusterLoadAssignment,
  type Listener,
  type RouteConfiguration,
  type Secret,
  TypeUrl,
  type VhdsVirtualHost,
} from '@minimesh/api'
import type { ConfigSnapshot } from '../snapshot.ts'
import { builtinClusters, serviceClusters } from './cds.ts'
import { type PushContext, pushContextOf } from './context.ts'
import { endpointMtls, loadAssignment } from './eds.ts'
import { gatewayConfig } from './gateway.ts'
import { inboundConfig, servicesSelecting } from './inbound.ts'
import { outboundListeners, virtualInboundListener, virtualOutboundListener } from './lds.ts'
import { namespacedName } from './names.ts'
import type { ProxyInfo } from './proxy.ts'
import { outboundRouteConfigurations } from './rds.ts'

/**
 * A list of resources of one type that many proxies may share (the same object for every sidecar
 * of a namespace in one snapshot), so that hashing and encoding happen once per group.
 */
export interface ResourceGroup<T = unknown> {
  readonly items: readonly T[]
}

/** A proxy's configuration as groups per type URL. */
export type GeneratedConfig = Readonly<Record<TypeUrl, readonly ResourceGroup[]>>

/**
 * A proxy's configuration, flat (for golden files, /debug/config_dump), with route configurations
 * assembled as the proxy uses them (separately sent virtual hosts put back in their place).
 */
export interface ProxyConfig {
  clusters: Cluster[]
  endpoints: ClusterLoadAssignment[]
  listeners: Listener[]
  routes: RouteConfiguration[]
  /** Gateway proxies only, and only when there are any. */
  secrets?: Secret[]
}

interface Outbound {
  clusters: ResourceGroup<Cluster>
  clusterNames: ReadonlySet<string>
  endpoints: ResourceGroup<ClusterLoadAssignment>
  listeners: ResourceGroup<Listener>
  routes: ResourceGroup<RouteConfiguration>
  virtualHosts: ResourceGroup<VhdsVirtualHost>
}

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)

/** What every proxy in `ns` reaches: clusters and endpoints of visible services, outbound listeners and routes. */
function outbound(ctx: PushContext, ns: string): Outbound {
  return ctx.memo(`outbound/${ns}`, () => {
    const clusters: Cluster[] = []
    const endpoints: ClusterLoadAssignment[] = []
    for (const service of ctx.visibleServices(ns)) {
      const rule = ctx.destinationRule(ns, service)
      for (const c of serviceClusters(ctx, ns, service)) {
        clusters.push(c)
        const port = service.ports.find((p) => p.port === c.service!.port)!
        const subsetName = c.service!.subset
        const subset =
          subsetName === undefined
            ? undefined
            : { name: subsetName, labels: rule?.subsets.find((s) => s.name === subsetName)?.labels ?? {} }
        endpoints.push(loadAssignment(ctx.snapshot.registry, service, port, subset, endpointMtls(ctx)))
      }
    }
    clusters.sort(byName)
    endpoints.sort((a, b) => (a.clusterName < b.clusterName ? -1 : 1))
    const clusterNames = new Set([...clusters.map((c) => c.name), ...builtinClusters().map((c) => c.name)])
    const { routes, virtualHosts } = outboundRouteConfigurations(ctx, ns, clusterNames)
    return {
      clusters: { items: clusters },
      clusterNames,
      endpoints: { items: endpoints },
      listeners: { items: outboundListeners(ctx, ns) },
      routes: { items: routes },
      virtualHosts: { items: virtualHosts },
    }
  })
}

const BUILTIN: ResourceGroup<Cluster> = { items: builtinClusters() }
const VIRTUAL_OUTBOUND: ResourceGroup<Listener> = { items: [virtualOutboundListener()] }

/** What a router serves in place of sidecar listeners: its Gateways' listeners, routes and certificates. */
interface GatewayGroups {
  listeners: ResourceGroup<Listener>
  routes: ResourceGroup<RouteConfiguration>
  secrets: ResourceGroup<Secret>
}

/** What a sidecar serves for the services that select its pod. */
interface InboundGroups {
  clusters: ResourceGroup<Cluster>
  listener: ResourceGroup<Listener>
}

/** What the generators of one proxy read: its outbound view and what its role adds. */
type Scope = { out: Outbound } & (
  | { role: 'router'; gateway: GatewayGroups }
  | { role: 'sidecar'; inbound: InboundGroups }
)

/**
 * One generator per type URL (Istio's cds/eds/lds/rds/sds generators): a new type is one entry
 * here, with what a router and what a sidecar get side by side.
 */
const GENERATORS: { readonly [T in TypeUrl]: (scope: Scope) => readonly ResourceGroup[] } = {
  [TypeUrl.Cluster]: (s) =>
    s.role === 'router' ? [BUILTIN, s.out.clusters] : [BUILTIN, s.inbound.clusters, s.out.clusters],
  [TypeUrl.ClusterLoadAssignment]: (s) => [s.out.endpoints],
  // Certificates go to gateways only: a sidecar never holds a gateway's private keys.
  [TypeUrl.Secret]: (s) => (s.role === 'router' ? [s.gateway.secrets] : []),
  [TypeUrl.Listener]: (s) =>
    s.role === 'router' ? [s.gateway.listeners] : [VIRTUAL_OUTBOUND, s.inbound.listener, s.out.listeners],
  [TypeUrl.RouteConfiguration]: (s) => (s.role === 'router' ? [s.gateway.routes] : [s.out.routes]),
  [TypeUrl.VirtualHost]: (s) => (s.role === 'router' ? [] : [s.out.virtualHosts]),
}

/** A router's Gateway groups, shared by the routers that the same Gateways select. */
function gatewayGroups(ctx: PushContext, proxy: ProxyInfo, out: Outbound): GatewayGroups {
  const gateways = ctx.gatewaysFor(proxy.labels)
  const key = `router/${proxy.namespace}/${gateways.map((g) => namespacedName(g.metadata)).join(',')}`
  return ctx.memo(key, () => {
    const { listeners, routes, secrets } = gatewayConfig(ctx, gateways, out.clusterNames, proxy.namespace)
    return { listeners: { items: listeners }, routes: { items: routes }, secrets: { items: secrets } }
  })
}

/**
 * A sidecar's inbound groups. Sidecars with the same labels (replicas) share them, unless a named
 * target port has to be looked up on the pod itself.
 */
function inboundGroups(ctx: PushContext, proxy: ProxyInfo): InboundGroups {
  const perPod = servicesSelecting(ctx, proxy).some((s) =>
    s.ports.some((p) => typeof p.targetPort === 'string'),
  )
  const labelsKey = JSON.stringify(Object.entries(proxy.labels).sort())
  const key = `inbound/${proxy.namespace}/${labelsKey}/${perPod ? `${proxy.podName}/${proxy.ip}` : ''}`
  return ctx.memo(key, () => {
    const { clusters, chains, authorization, mtls } = inboundConfig(ctx, proxy)
    return {
      clusters: { items: clusters },
      listener: { items: [virtualInboundListener(chains, mtls, authorization)] },
    }
  })
}

/**
 * The configuration for one proxy, scoped to what it can reach: a sidecar gets the services
 * visible from its namespace (exportTo), inbound configuration only for the services that select
 * its own pod, and endpoints only for the clusters it is sent. A router gets the same clusters and,
 * instead of the sidecar listeners, those of the Gateways that select it.
 */
export function generate(ctx: PushContext, proxy: ProxyInfo): GeneratedConfig {
  const out = outbound(ctx, proxy.namespace)
  const scope: Scope =
    proxy.type === 'router'
      ? { out, role: 'router', gateway: gatewayGroups(ctx, proxy, out) }
      : { out, role: 'sidecar', inbound: inboundGroups(ctx, proxy) }
  const config = {} as Record<TypeUrl, readonly ResourceGroup[]>
  for (const type of Object.keys(GENERATORS) as TypeUrl[]) config[type] = GENERATORS[type](scope)
  return config
}

/** Flattens generated groups into one list per type. */
export function flatten(config: GeneratedConfig): ProxyConfig {
  const all = <T>(type: TypeUrl) => config[type].flatMap((g) => g.items as T[])
  const secrets = all<Secret>(TypeUrl.Secret)
  return {
    clusters: all<Cluster>(TypeUrl.Cluster),
    endpoints: all<ClusterLoadAssignment>(TypeUrl.ClusterLoadAssignment),
    listeners: all<Listener>(TypeUrl.Listener),
    routes: assembleRouteConfigurations(
      all<RouteConfiguration>(TypeUrl.RouteConfiguration),
      all<VhdsVirtualHost>(TypeUrl.VirtualHost),
    ),
    ...(secrets.length > 0 ? { secrets } : {}),
  }
}

/** ConfigSnapshot + proxy → its Listeners, RouteConfigurations, Clusters and ClusterLoadAssignments. Pure and deterministic. */
export function translate(snapshot: ConfigSnapshot, proxy: ProxyInfo): ProxyConfig {
  return flatten(generate(pushContextOf(snapshot), proxy))
}

export { type PushContext, pushContextOf } from './context.ts'
export { type ProxyInfo, proxyFromNode } from './proxy.ts'
