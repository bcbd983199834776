import type { RouteConfiguration, VirtualHost } from '@minimesh/api'
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

/** One RouteConfiguration per HTTP port (`9080`), a virtual host per service on it, for sidecars in `ns`. */
export function outboundRouteConfigurations(
  ctx: PushContext,
  ns: string,
  clusters: ReadonlySet<string>,
): RouteConfiguration[] {
  const byPort = new Map<number, { service: Service; port: ServicePort }[]>()
  for (const service of ctx.visibleServices(ns))
    for (const port of service.ports) {
      if (!isHttp(port.protocol)) continue
      const list = byPort.get(port.port) ?? []
      list.push({ service, port })
      byPort.set(port.port, list)
    }
  return [...byPort.keys()]
    .sort((a, b) => a - b)
    .map((p) => ({
      name: String(p),
      virtualHosts: [
        ...byPort.get(p)!.map(({ service, port }) => serviceVirtualHost(ctx, ns, service, port, clusters)),
        ALLOW_ANY,
      ],
    }))
}
