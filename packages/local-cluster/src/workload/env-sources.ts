// Where a container's env comes from besides its spec: Secrets, ConfigMaps, the namespace's
// Services (service links) and the host's address, read from the cluster's objects.

import type { Service } from '@minimesh/api/kube'
import { kindByName } from '../kube/kinds.ts'
import type { ObjectStore } from '../store.ts'
import type { EnvSources } from './env.ts'

export function envSourcesFor(store: ObjectStore, ns: string, hostIp: string): EnvSources {
  const data = (kind: string, name: string) => {
    const o = store.find(kindByName(kind), ns, name) as
      | { data?: Record<string, string>; stringData?: Record<string, string> }
      | undefined
    if (!o) return undefined
    const out: Record<string, string> = {}
    for (const [k, v] of Object.entries(o.data ?? {}))
      out[k] = kind === 'secret' ? Buffer.from(v, 'base64').toString('utf8') : v
    Object.assign(out, o.stringData ?? {})
    return out
  }
  return {
    secret: (_: string, name: string) => data('secret', name),
    configMap: (_: string, name: string) => data('configmap', name),
    services: store.list(kindByName('service'), ns) as Service[],
    hostIp,
  }
}
