import type { Authorization, FilterChain, Listener } from '@minimesh/api'
import { INBOUND_CAPTURE_PORT, OUTBOUND_CAPTURE_PORT } from '@minimesh/api/ports'
import { isHttp } from '../registry/protocol.ts'
import type { PushContext } from './context.ts'
import {
  addressListenerName,
  INBOUND_PASSTHROUGH_CLUSTER,
  outboundClusterName,
  PASSTHROUGH_CLUSTER,
  VIRTUAL_INBOUND_LISTENER,
  VIRTUAL_OUTBOUND_LISTENER,
  wildcardListenerName,
} from './names.ts'

/**
 * Outbound listeners for sidecars in `ns` (none binds a socket; virtualOutbound hands them
 * connections by original destination): `0.0.0.0_<port>` for every HTTP service port, routed by
 * RouteConfiguration `<port>`; `<clusterIP>_<port>` for every TCP service port with an address.
 */
export function outboundListeners(ctx: PushContext, ns: string): Listener[] {
  const httpPorts = new Set<number>()
  const tcp: Listener[] = []
  for (const service of ctx.visibleServices(ns))
    for (const port of service.ports) {
      if (isHttp(port.protocol)) httpPorts.add(port.port)
      else if (service.clusterIP) {
        const name = addressListenerName(service.clusterIP, port.port)
        tcp.push({
          name,
          trafficDirection: 'OUTBOUND',
          address: service.clusterIP,
          port: port.port,
          bindToPort: false,
          filterChains: [
            { name, tcp: { cluster: outboundClusterName(port.port, undefined, service.hostname) } },
          ],
        })
      }
    }
  const http: Listener[] = [...httpPorts]
    .sort((a, b) => a - b)
    .map((port) => ({
      name: wildcardListenerName(port),
      trafficDirection: 'OUTBOUND',
      address: '0.0.0.0',
      port,
      bindToPort: false,
      filterChains: [{ name: wildcardListenerName(port), http: { routeConfigName: String(port) } }],
    }))
  return [...http, ...tcp.sort((a, b) => (a.name < b.name ? -1 : 1))]
}

/**
 * 0.0.0.0:OUTBOUND_CAPTURE_PORT, where iptables sends the pod's outbound connections; unknown
 * destinations pass through. Always the default port, as Istio's xDS: a pod whose injector chose
 * another has a proxy told so (`--outbound-port`), which binds this listener there.
 */
export function virtualOutboundListener(): Listener {
  return {
    name: VIRTUAL_OUTBOUND_LISTENER,
    trafficDirection: 'OUTBOUND',
    address: '0.0.0.0',
    port: OUTBOUND_CAPTURE_PORT,
    bindToPort: true,
    filterChains: [],
    defaultFilterChain: { name: PASSTHROUGH_CLUSTER, tcp: { cluster: PASSTHROUGH_CLUSTER } },
  }
}

/**
 * 0.0.0.0:INBOUND_CAPTURE_PORT, where iptables sends connections to the pod: a chain per inbound
 * port, else passthrough. Always the default port (`--inbound-port` moves it, as above).
 */
export function virtualInboundListener(
  chains: FilterChain[],
  mtls: NonNullable<FilterChain['mtls']>['mode'],
  authorization?: Authorization,
): Listener {
  return {
    name: VIRTUAL_INBOUND_LISTENER,
    trafficDirection: 'INBOUND',
    address: '0.0.0.0',
    port: INBOUND_CAPTURE_PORT,
    bindToPort: true,
    filterChains: chains,
    defaultFilterChain: {
      name: INBOUND_PASSTHROUGH_CLUSTER,
      tcp: { cluster: INBOUND_PASSTHROUGH_CLUSTER },
      ...(authorization ? { authorization } : {}),
      mtls: { mode: mtls },
    },
  }
}
