import type { ClusterLoadAssignment, LbEndpoint } from '@minimesh/api'
import type { Endpoint, Registry, Service, ServicePort } from '../registry/registry.ts'
import { type PushContext, selects } from './context.ts'
import { outboundClusterName } from './names.ts'
import { portMtls, workloadMtls } from './peer-authentication.ts'

/** Does the endpoint take mesh mTLS (auto mTLS)? */
export type EndpointMtls = (endpoint: Endpoint) => boolean

/**
 * Auto mTLS (Istio's `tlsMode: istio` endpoint label): the endpoint's pod has the sidecar and its
 * PeerAuthentication for the endpoint port is not DISABLE.
 */
export function endpointMtls(ctx: PushContext): EndpointMtls {
  return (e) => e.sidecar === true && portMtls(workloadMtls(ctx, e.namespace, e.labels), e.port) !== 'DISABLE'
}

/**
 * The endpoints of one outbound cluster: the service port's ready endpoints, narrowed to the pods
 * a subset's labels select. Not-ready endpoints are left out, as Istio does.
 */
export function loadAssignment(
  registry: Registry,
  service: Service,
  port: ServicePort,
  subset?: { name: string; labels: Record<string, string> },
  mtls?: EndpointMtls,
): ClusterLoadAssignment {
  const endpoints: LbEndpoint[] = []
  for (const e of registry.endpoints(service, port)) {
    if (!e.ready) continue
    if (subset && !selects(subset.labels, e.labels)) continue
    endpoints.push({
      address: e.address,
      port: e.port,
      health: 'HEALTHY',
      labels: e.labels,
      ...(e.pod !== undefined ? { pod: e.pod } : {}),
      namespace: e.namespace,
      ...(e.workload !== undefined ? { workload: e.workload } : {}),
      ...(e.serviceAccount !== undefined ? { serviceAccount: e.serviceAccount } : {}),
      ...(mtls?.(e) ? { tlsMode: 'istio' as const } : {}),
    })
  }
  return { clusterName: outboundClusterName(port.port, subset?.name, service.hostname), endpoints }
}
