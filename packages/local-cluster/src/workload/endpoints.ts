// Endpoints of Services from the pods that run (the endpoints controller's job), and the DNAT
// rules and hosts-file entries that follow from them. Pure.

import type { Container, EndpointAddress, EndpointPort, Endpoints, Pod, Service } from '@minimesh/api/kube'
import { matchesServiceSelector } from '../kube/selector.ts'
import type { ServiceAddress } from '../net/hosts-file.ts'
import type { ServicePortRule } from '../net/service-rules.ts'

export interface PodView {
  pod: Pod
  ip?: string
  ready: boolean
  terminating: boolean
}

function targetPort(
  svcPort: NonNullable<Service['spec']['ports']>[number],
  containers: Container[],
): number | undefined {
  const t = svcPort.targetPort ?? svcPort.port
  if (typeof t === 'number') return t
  if (/^\d+$/.test(t)) return Number(t)
  for (const c of containers) {
    const p = c.ports?.find((x) => x.name === t && (x.protocol ?? 'TCP') === (svcPort.protocol ?? 'TCP'))
    if (p) return p.containerPort
  }
  return undefined
}

/** The Endpoints object of a Service with a selector (undefined for a selector-less Service). */
export function endpointsFor(svc: Service, pods: readonly PodView[]): Endpoints | undefined {
  if (!svc.spec.selector || Object.keys(svc.spec.selector).length === 0) return undefined
  const ns = svc.metadata.namespace ?? 'default'
  const subsets = new Map<
    string,
    { ports: EndpointPort[]; addresses: EndpointAddress[]; notReadyAddresses: EndpointAddress[] }
  >()
  const selected = pods
    .filter(
      (p): p is PodView & { ip: string } =>
        (p.pod.metadata.namespace ?? 'default') === ns && !!p.ip && !p.terminating,
    )
    .filter((p) => matchesServiceSelector(svc.spec.selector, p.pod.metadata.labels))
    .sort((a, b) => a.ip.localeCompare(b.ip) || a.pod.metadata.name.localeCompare(b.pod.metadata.name))
  for (const p of selected) {
    const ports: EndpointPort[] = []
    for (const sp of svc.spec.ports ?? []) {
      const port = targetPort(sp, p.pod.spec.containers)
      if (port === undefined) continue
      ports.push({
        ...(sp.name ? { name: sp.name } : {}),
        port,
        protocol: sp.protocol ?? 'TCP',
        ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}),
      })
    }
    if (ports.length === 0) continue
    const key = JSON.stringify(ports)
    const subset = subsets.get(key) ?? { ports, addresses: [], notReadyAddresses: [] }
    subsets.set(key, subset)
    const address = {
      ip: p.ip,
      nodeName: 'local',
      targetRef: { kind: 'Pod', namespace: ns, name: p.pod.metadata.name, uid: p.pod.metadata.uid },
    }
    ;(p.ready ? subset.addresses : subset.notReadyAddresses).push(address)
  }
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {
      name: svc.metadata.name,
      namespace: ns,
      ...(svc.metadata.labels ? { labels: svc.metadata.labels } : {}),
    },
    subsets: [...subsets.values()].map((s) => ({
      ...(s.addresses.length ? { addresses: s.addresses } : {}),
      ...(s.notReadyAddresses.length ? { notReadyAddresses: s.notReadyAddresses } : {}),
      ports: s.ports,
    })),
  }
}

/** DNAT rules for a Service: each port of its ClusterIP to the ready endpoints' matching port. */
export function portRules(svc: Service, endpoints: Endpoints | undefined): ServicePortRule[] {
  const ip = svc.spec.clusterIP
  if (!ip || ip === 'None') return []
  const ns = svc.metadata.namespace ?? 'default'
  const rules: ServicePortRule[] = []
  for (const sp of svc.spec.ports ?? []) {
    const protocol = (sp.protocol ?? 'TCP').toLowerCase()
    if (protocol !== 'tcp' && protocol !== 'udp') continue
    const eps: { ip: string; port: number }[] = []
    for (const subset of endpoints?.subsets ?? []) {
      const port = subset.ports?.find(
        (p) => (p.name ?? '') === (sp.name ?? '') && (p.protocol ?? 'TCP').toLowerCase() === protocol,
      )
      if (!port) continue
      for (const a of subset.addresses ?? []) eps.push({ ip: a.ip, port: port.port })
    }
    rules.push({
      id: `${ns}/${svc.metadata.name}:${sp.name ?? sp.port}`,
      clusterIp: ip,
      port: sp.port,
      protocol,
      endpoints: eps,
    })
  }
  return rules
}

/** Hosts-file entries: the ClusterIP, or a headless Service's ready addresses. */
export function serviceAddress(svc: Service, endpoints: Endpoints | undefined): ServiceAddress | undefined {
  const ip = svc.spec.clusterIP
  const addresses =
    ip && ip !== 'None'
      ? [ip]
      : [...new Set((endpoints?.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip)))].sort()
  if (addresses.length === 0) return undefined
  return { name: svc.metadata.name, namespace: svc.metadata.namespace ?? 'default', addresses }
}
