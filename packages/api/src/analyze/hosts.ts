import { isIP } from 'node:net'

export const DEFAULT_DOMAIN_SUFFIX = 'cluster.local'

/**
 * Resolves a host as Istio does for Kubernetes: a short name (no dots) is relative to the namespace
 * of the resource that names it (`reviews` in `default` → `reviews.default.svc.cluster.local`),
 * whatever namespace the Service is in. A name with dots, a wildcard or an IP address is taken as is.
 */
export function resolveHost(host: string, namespace: string, suffix = DEFAULT_DOMAIN_SUFFIX): string {
  if (host.startsWith('*') || host.includes('.') || isIP(host)) return host
  return `${host}.${namespace}.svc.${suffix}`
}

/** True when `pattern` (a host, `*`, or `*.suffix`) covers `host`. */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) || host === pattern
  return pattern === host
}

/** `name.namespace.svc.<suffix>` → name and namespace; undefined for any other host. */
export function serviceOfHost(
  fqdn: string,
  suffix = DEFAULT_DOMAIN_SUFFIX,
): { name: string; namespace: string } | undefined {
  const tail = `.svc.${suffix}`
  if (!fqdn.endsWith(tail)) return undefined
  const parts = fqdn.slice(0, -tail.length).split('.')
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined
  return { name: parts[0], namespace: parts[1] }
}
