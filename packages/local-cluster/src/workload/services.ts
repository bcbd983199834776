// Services as the API server treats them: a ClusterIP kept across updates, claimed when the
// Service asks for one, allocated from the service range otherwise; and resolving a Service port
// to an endpoint, as the API server does to call a webhook Service.

import type { Service } from '@minimesh/api/kube'
import { LocalClusterError } from '../errors.ts'
import { kindByName } from '../kube/kinds.ts'
import type { IpAllocator } from '../net/ipv4.ts'
import type { ObjectStore } from '../store.ts'

export function assignClusterIp(
  svc: Service,
  old: Service | undefined,
  ips: IpAllocator,
  serviceCidr: string,
): void {
  const want = svc.spec.clusterIP
  if (want === 'None') return
  if (old?.spec.clusterIP && old.spec.clusterIP !== 'None' && (!want || want === old.spec.clusterIP)) {
    svc.spec.clusterIP = old.spec.clusterIP
  } else if (want) {
    if (!ips.claim(want)) {
      throw new LocalClusterError(
        'MESH_ERR_LOCAL_INVALID',
        `service ${svc.metadata.name}: clusterIP ${want} is taken or outside ${serviceCidr}`,
      )
    }
  } else svc.spec.clusterIP = ips.allocate()
  svc.spec.clusterIPs = [svc.spec.clusterIP!]
  svc.spec.type ??= 'ClusterIP'
  if (svc.spec.type === 'LoadBalancer')
    svc.status = { loadBalancer: { ingress: [{ ip: svc.spec.clusterIP }] } }
}

/** The first ready endpoint behind a Service port (the webhook Service, for admission calls). */
export function resolveServicePort(
  store: ObjectStore,
  namespace: string,
  name: string,
  port: number,
): { host: string; port: number } | undefined {
  const svc = store.find(kindByName('service'), namespace, name) as Service | undefined
  const sp = svc?.spec.ports?.find((p) => p.port === port)
  if (!svc || !sp) return undefined
  const ep = store.find(kindByName('endpoints'), namespace, name) as
    | { subsets?: { addresses?: { ip: string }[]; ports?: { name?: string; port: number }[] }[] }
    | undefined
  for (const s of ep?.subsets ?? []) {
    const p = s.ports?.find((x) => (x.name ?? '') === (sp.name ?? ''))
    const a = s.addresses?.[0]
    if (p && a) return { host: a.ip, port: p.port }
  }
  return undefined
}

/** `http://<ClusterIP>[:port]` for a Service's HTTP port (named http/http2, else 80, else the first). */
export function serviceUrl(svc: Service): string {
  const ports = svc.spec.ports ?? []
  const port =
    ports.find((p) => p.name === 'http' || p.name === 'http2') ?? ports.find((p) => p.port === 80) ?? ports[0]
  return `http://${svc.spec.clusterIP}${port && port.port !== 80 ? `:${port.port}` : ''}`
}
