import type { RouteConfiguration, VhdsVirtualHost, VirtualHost } from '@minimesh/api'
import { serviceHostnames } from '../registry/hosts.ts'
import { isHttp } from '../registry/protocol.ts'
import type { Service, ServicePort } from '../registry/registry.ts'
import type { PushContext } from './context.ts'
import { ALLOW_ANY_VHOST, outboundClusterName, PASSTHROUGH_CLUSTER } from './names.ts'
import { defaultRoute, virtualServiceRoutes } from './route.ts'

/**
 * Host header values a service answers to on a port from a proxy in `fromNs`: each name with and
 * without the port, then the ClusterIP with and without the port.
 */
function virtualHostDomains(service: Service, port: number, fromNs: string): string[] {
  const out: string[] = []
  for (const h of serviceHostnames(service.name, service.namespace, fromNs)) out.push(h, `${h}:${port}`)
  if (service.clusterIP) out.push(service.clusterIP, `${service.clusterIP}:${port}`)
  return out
}

function serviceVirtualHost(
  ctx: PushContext,
  ns: string,
  service: Service,
  port: ServicePort,
  clusters: ReadonlySet<string>,
): VirtualHost {
  const vs = ctx.virtualServiceFor(ns, service)
  const scope = { gateway: 'mesh', port: port.port, clusters, registry: ctx.snapshot.registry }
  return {
    name: `${service.hostname}:${port.port}`,
    domains: virtualHostDomains(service, port.port, ns),
    routes: vs
      ? virtualServiceRoutes(vs, scope)
      : [defaultRoute(outboundClusterName(port.port, undefined, service.hostname))],
  }
}

/** The last virtual host of every outbound route configuration: any other host, passed through. */
const ALLOW_ANY: VirtualHost = {
  name: ALLOW_ANY_VHOST,
  domains: ['*'],
  routes: [
    {
      name: ALLOW_ANY_VHOST,
      match: { path: { prefix: '/' } },
      route: { clusters: [{ name: PASSTHROUGH_CLUSTER, weight: 100 }] },
    },
  ],
}

/**
 * One RouteConfiguration per HTTP port (`9080`) for sidecars in `ns`, and a virtual host per
 * service on it. The service hosts are sent on their own (VHDS: the configuration has `vhds` and
 * keeps only the allow-any fallback), so that a routing change to one service sends one host.
 */
export function outboundRouteConfigurations(
  ctx: PushContext,
  ns: string,
  clusters: ReadonlySet<string>,
): { routes: RouteConfiguration[]; virtualHosts: VhdsVirtualHost[] } {
  const byPort = new Map<number, { service: Service; port: ServicePort }[]>()
  for (const service of ctx.visibleServices(ns))
    for (const port of service.ports) {
      if (!isHttp(port.protocol)) continue
      const list = byPort.get(port.port) ?? []
      list.push({ service, port })
      byPort.set(port.port, list)
    }
  const routes: RouteConfiguration[] = []
  const virtualHosts: VhdsVirtualHost[] = []
  for (const p of [...byPort.keys()].sort((a, b) => a - b)) {
    const name = String(p)
    routes.push({ name, virtualHosts: [ALLOW_ANY], vhds: true })
    for (const { service, port } of byPort.get(p)!)
      virtualHosts.push({
        routeConfiguration: name,
        virtualHost: serviceVirtualHost(ctx, ns, service, port, clusters),
      })
  }
  return { routes, virtualHosts }
}
