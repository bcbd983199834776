import type { ClusterLoadAssignment, LbEndpoint } from '@minimesh/api'
import type { Registry, Service, ServicePort } from '../registry/registry.ts'
import { selects } from './context.ts'
import { outboundClusterName } from './names.ts'

/**
 * The endpoints of one outbound cluster: the service port's ready endpoints, narrowed to the pods
 * a subset's labels select. Not-ready endpoints are left out, as Istio does.
 */
export function loadAssignment(
  registry: Registry,
  service: Service,
  port: ServicePort,
  subset?: { name: string; labels: Record<string, string> },
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
    })
  }
  return { clusterName: outboundClusterName(port.port, subset?.name, service.hostname), endpoints }
}
