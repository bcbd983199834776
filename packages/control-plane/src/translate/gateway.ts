import type { Gateway, Listener, Route, RouteConfiguration, VirtualService } from '@minimesh/api'
import { hostSpecificity, hostsIntersect, resolveHost } from '../registry/hosts.ts'
import type { PushContext } from './context.ts'
import { gatewayRouteName, namespacedName, wildcardListenerName } from './names.ts'
import { virtualServiceRoutes } from './route.ts'

const nsOf = (r: { metadata: { namespace?: string } }) => r.metadata.namespace ?? 'default'

/** A Gateway server host (`host`, or `ns/host` with ns `.`, `*` or a name): the host VirtualServices of `vsNs` may use. */
function serverHost(entry: string, gateway: Gateway, vsNs: string): string | undefined {
  const slash = entry.indexOf('/')
  if (slash < 0) return entry
  const ns = entry.slice(0, slash)
  const host = entry.slice(slash + 1)
  if (ns === '*' || ns === vsNs || (ns === '.' && nsOf(gateway) === vsNs)) return host
  return undefined
}

/**
 * A router's listeners and routes: for every HTTP server port of the Gateways selecting it, a
 * listener `0.0.0.0_<port>` and a RouteConfiguration `http.<port>` built from the VirtualServices
 * that list the Gateway, a virtual host per host they share with the server; several
 * VirtualServices for one host merge, oldest first (Istio does the same for gateways).
 */
export function gatewayConfig(
  ctx: PushContext,
  gateways: readonly Gateway[],
  clusters: ReadonlySet<string>,
): { listeners: Listener[]; routes: RouteConfiguration[] } {
  const byPort = new Map<number, { gateway: Gateway; hosts: string[] }[]>()
  for (const gw of gateways)
    for (const server of gw.spec.servers) {
      if (server.port.protocol === 'TCP') continue
      const list = byPort.get(server.port.number) ?? []
      list.push({ gateway: gw, hosts: server.hosts })
      byPort.set(server.port.number, list)
    }
  const listeners: Listener[] = []
  const routes: RouteConfiguration[] = []
  for (const port of [...byPort.keys()].sort((a, b) => a - b)) {
    const vhosts = new Map<string, { routes: Route[]; seen: Set<VirtualService> }>()
    for (const { gateway, hosts } of byPort.get(port)!) {
      const scope = {
        gateway: namespacedName(gateway.metadata),
        port,
        clusters,
        registry: ctx.snapshot.registry,
      }
      for (const vs of ctx.gatewayVirtualServices(gateway)) {
        let vsRoutes: Route[] | undefined
        for (const h of vs.spec.hosts ?? []) {
          const vsHost = resolveHost(h, nsOf(vs))
          for (const entry of hosts) {
            const sh = serverHost(entry, gateway, nsOf(vs))
            const host = sh === undefined ? undefined : hostsIntersect(vsHost, sh)
            if (host === undefined) continue
            const vh = vhosts.get(host) ?? { routes: [], seen: new Set() }
            vhosts.set(host, vh)
            if (vh.seen.has(vs)) continue
            vh.seen.add(vs)
            vsRoutes ??= virtualServiceRoutes(vs, scope)
            vh.routes.push(...vsRoutes)
          }
        }
      }
    }
    const name = gatewayRouteName(port)
    listeners.push({
      name: wildcardListenerName(port),
      trafficDirection: 'GATEWAY',
      address: '0.0.0.0',
      port,
      bindToPort: true,
      filterChains: [{ name: wildcardListenerName(port), http: { routeConfigName: name } }],
    })
    routes.push({
      name,
      virtualHosts: [...vhosts.entries()]
        .sort(([a], [b]) => hostSpecificity(b) - hostSpecificity(a) || (a < b ? -1 : a > b ? 1 : 0))
        .map(([host, vh]) => ({
          name: `${host}:${port}`,
          domains: host === '*' ? ['*'] : [host, `${host}:${port}`],
          routes: vh.routes,
        })),
    })
  }
  return { listeners, routes }
}
