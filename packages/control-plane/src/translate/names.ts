// Istio's names for proxy resources, so that people who debug Istio can debug minimesh.

export const PASSTHROUGH_CLUSTER = 'PassthroughCluster'
export const INBOUND_PASSTHROUGH_CLUSTER = 'InboundPassthroughCluster'
export const BLACKHOLE_CLUSTER = 'BlackHoleCluster'
export const VIRTUAL_OUTBOUND_LISTENER = 'virtualOutbound'
export const VIRTUAL_INBOUND_LISTENER = 'virtualInbound'
/** The catch-all virtual host of an outbound route configuration. */
export const ALLOW_ANY_VHOST = 'allow_any'
/** The namespace whose DestinationRules apply mesh-wide (Istio's root namespace). */
export const ROOT_NAMESPACE = 'minimesh-system'

/** `outbound|9080|v1|reviews.default.svc.cluster.local` (subset empty: `outbound|9080||…`). */
export function outboundClusterName(port: number, subset: string | undefined, hostname: string): string {
  return `outbound|${port}|${subset ?? ''}|${hostname}`
}

/** `inbound|9080||` */
export function inboundClusterName(port: number): string {
  return `inbound|${port}||`
}

/** `0.0.0.0_9080`: outbound HTTP listener for a port, a gateway listener, an inbound filter chain. */
export function wildcardListenerName(port: number): string {
  return `0.0.0.0_${port}`
}

/** `198.19.0.12_3306`: outbound TCP listener for one service address. */
export function addressListenerName(ip: string, port: number): string {
  return `${ip}_${port}`
}

/** Route configuration of a gateway server port: `http.8080`. */
export function gatewayRouteName(port: number): string {
  return `http.${port}`
}

/** The namespace of a resource: `default` when its metadata names none, as Kubernetes reads it. */
export function nsOf(resource: { metadata: { namespace?: string } }): string {
  return resource.metadata.namespace ?? 'default'
}

/** `<namespace>/<name>` of a resource (QuotaPolicy rules, route names, gateways). */
export function namespacedName(meta: { name: string; namespace?: string }): string {
  return `${nsOf({ metadata: meta })}/${meta.name}`
}
