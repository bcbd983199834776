import type { AttributeLookup, AttributeName } from '@minimesh/api'

/** A workload as the quota attributes see it (from the peer header, or the proxy's own node). */
export interface WorkloadInfo {
  workload?: string
  namespace?: string
  serviceAccount?: string
  labels?: Readonly<Record<string, string>>
  ip?: string
}

export interface RequestInfo {
  headers: Readonly<Record<string, string | string[] | undefined>>
  path: string
  method: string
  host: string
}

/** `ratings:9080` or `ratings.default.svc.cluster.local` → `ratings`; an IP stays as it is. */
export function serviceFromHost(host: string): string | undefined {
  const name = host.replace(/:\d+$/, '')
  if (!name) return undefined
  if (/^[\d.]+$/.test(name) || name.startsWith('[')) return name
  return name.split('.')[0]
}

function principal(w: WorkloadInfo): string | undefined {
  return w.serviceAccount && w.namespace
    ? `spiffe://cluster.local/ns/${w.namespace}/sa/${w.serviceAccount}`
    : undefined
}

/**
 * Attribute lookup for quota dimensions at the server-side proxy: `source.*` from the calling
 * workload (peer metadata; absent for callers outside the mesh), `destination.*` from this proxy's
 * own workload and the request's Host, `request.*` from the request.
 */
export function attributeLookup(
  source: WorkloadInfo | undefined,
  destination: WorkloadInfo,
  req: RequestInfo,
): AttributeLookup {
  return (name: AttributeName, key?: string) => {
    switch (name) {
      case 'source.labels':
        return key === undefined ? undefined : source?.labels?.[key]
      case 'source.service':
        return source?.labels?.app ?? source?.workload
      case 'source.namespace':
        return source?.namespace
      case 'source.principal':
        return source ? principal(source) : undefined
      case 'source.workload':
        return source?.workload
      case 'source.ip':
        return source?.ip
      case 'destination.labels':
        return key === undefined ? undefined : destination.labels?.[key]
      case 'destination.service':
        return serviceFromHost(req.host) ?? destination.labels?.app
      case 'destination.namespace':
        return destination.namespace
      case 'destination.version':
        return destination.labels?.version
      case 'destination.workload':
        return destination.workload
      case 'request.headers': {
        if (key === undefined) return undefined
        const v = req.headers[key.toLowerCase()]
        return Array.isArray(v) ? v[0] : v
      }
      case 'request.path':
        return req.path
      case 'request.method':
        return req.method
      case 'request.host':
        return req.host
    }
  }
}
