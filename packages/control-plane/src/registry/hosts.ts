import { isIP } from 'node:net'

/** The cluster's DNS domain (Kubernetes' default). */
export const DOMAIN_SUFFIX = 'cluster.local'

/** `name.ns.svc.cluster.local` */
export function serviceFqdn(name: string, namespace: string): string {
  return `${name}.${namespace}.svc.${DOMAIN_SUFFIX}`
}

/** Every name a service answers to from inside `fromNamespace`, shortest first. */
export function serviceHostnames(name: string, namespace: string, fromNamespace?: string): string[] {
  const names = [`${name}.${namespace}`, `${name}.${namespace}.svc`, serviceFqdn(name, namespace)]
  // A bare name resolves (by the pod's DNS search path) only within the service's own namespace.
  return fromNamespace === undefined || fromNamespace === namespace ? [name, ...names] : names
}

/**
 * Istio's rule for host names in a VirtualService or DestinationRule: a short name (no dots, no
 * wildcard, not an address) is a service in the resource's own namespace; anything else is taken as written.
 */
export function resolveHost(host: string, namespace: string): string {
  if (host.includes('.') || host.includes('*') || isIP(host)) return host
  return serviceFqdn(host, namespace)
}

/** True when `pattern` (possibly `*` or `*.suffix`) matches `host`. */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true
  if (pattern.startsWith('*')) return host.endsWith(pattern.slice(1))
  return pattern === host
}

/** Both ways: wildcard against wildcard, as Gateway server hosts and VirtualService hosts meet. */
export function hostsIntersect(a: string, b: string): string | undefined {
  if (hostMatches(a, b)) return b
  if (hostMatches(b, a)) return a
  if (a.startsWith('*') && b.startsWith('*')) {
    const sa = a.slice(1)
    const sb = b.slice(1)
    if (sa.endsWith(sb)) return a
    if (sb.endsWith(sa)) return b
  }
  return undefined
}

/** Wildcards sort after exact names; longer (more specific) names first. */
export function hostSpecificity(host: string): number {
  return host.startsWith('*') ? host.length : 10_000 + host.length
}
