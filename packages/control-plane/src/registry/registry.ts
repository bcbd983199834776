import type { KubeObject } from '@minimesh/api/kube'
import { serviceFqdn } from './hosts.ts'
import { type Protocol, portProtocol } from './protocol.ts'

export interface ServicePort {
  /** Port name ('' for the single unnamed port of a service). */
  name: string
  port: number
  /** Container port: a number or a container port name. */
  targetPort: number | string
  protocol: Protocol
}

export interface Service {
  name: string
  namespace: string
  /** `name.ns.svc.cluster.local` */
  hostname: string
  /** Absent for headless services and services without an address. */
  clusterIP?: string
  ports: ServicePort[]
  selector?: Record<string, string>
  /** Namespaces that may see the service (`*`, `.`, names); annotation `networking.istio.io/exportTo`. */
  exportTo: string[]
  labels: Record<string, string>
}

export interface Endpoint {
  address: string
  port: number
  ready: boolean
  labels: Record<string, string>
  pod?: string
  namespace: string
  workload?: string
  serviceAccount?: string
  /** The endpoint's pod has the mesh sidecar (injected: annotation `sidecar.minimesh.dev/status`). */
  sidecar?: boolean
}

/** The annotation the injector leaves on a pod it added the sidecar to. */
const SIDECAR_STATUS_ANNOTATION = 'sidecar.minimesh.dev/status'

export interface PodInfo {
  name: string
  namespace: string
  ip?: string
  labels: Record<string, string>
  serviceAccount?: string
  workload: string
  /** Injected with the sidecar (annotation `sidecar.minimesh.dev/status`). */
  sidecar: boolean
  /** Container port numbers by port name. */
  namedPorts: Record<string, number>
}

/** Services and their endpoints, read from Services, Endpoints or EndpointSlices, Pods and Namespaces. */
export interface Registry {
  /** Sorted by hostname. */
  readonly services: readonly Service[]
  readonly namespaces: ReadonlyMap<string, { labels: Record<string, string> }>
  service(hostname: string): Service | undefined
  /** Endpoints of one service port (ready and not), sorted by address. */
  endpoints(service: Service, port: ServicePort): readonly Endpoint[]
  pod(namespace: string, name: string): PodInfo | undefined
}

type Obj = Record<string, unknown>
const asObj = (v: unknown): Obj => (typeof v === 'object' && v !== null ? (v as Obj) : {})
const asArr = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]).map(asObj) : [])
const asStr = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
const asLabels = (v: unknown): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [k, x] of Object.entries(asObj(v))) if (typeof x === 'string') out[k] = x
  return out
}

/** The workload (Deployment, StatefulSet, …) a pod belongs to, from its owner or its name. */
export function workloadName(meta: KubeObject['metadata']): string {
  const owner = meta.ownerReferences?.[0]
  const hash = meta.labels?.['pod-template-hash']
  if (owner) {
    if (owner.kind === 'ReplicaSet' && hash && owner.name.endsWith(`-${hash}`))
      return owner.name.slice(0, -(hash.length + 1))
    return owner.name
  }
  if (hash) {
    const at = meta.name.lastIndexOf(`-${hash}-`)
    if (at > 0) return meta.name.slice(0, at)
  }
  return meta.name
}

function toPod(obj: KubeObject): PodInfo {
  const spec = asObj(obj.spec)
  const namedPorts: Record<string, number> = {}
  for (const c of asArr(spec.containers))
    for (const p of asArr(c.ports))
      if (typeof p.name === 'string' && typeof p.containerPort === 'number')
        namedPorts[p.name] = p.containerPort
  return {
    name: obj.metadata.name,
    namespace: obj.metadata.namespace ?? 'default',
    ip: asStr(asObj(obj.status).podIP),
    labels: obj.metadata.labels ?? {},
    serviceAccount: asStr(spec.serviceAccountName) ?? 'default',
    workload: workloadName(obj.metadata),
    sidecar: obj.metadata.annotations?.[SIDECAR_STATUS_ANNOTATION] !== undefined,
    namedPorts,
  }
}

function toService(obj: KubeObject): Service | undefined {
  const spec = asObj(obj.spec)
  const ns = obj.metadata.namespace ?? 'default'
  if (spec.type === 'ExternalName') return undefined
  const ports: ServicePort[] = []
  for (const p of asArr(spec.ports)) {
    if (typeof p.port !== 'number') continue
    if (p.protocol !== undefined && p.protocol !== 'TCP') continue // UDP/SCTP: not proxied
    const name = asStr(p.name) ?? ''
    const target =
      typeof p.targetPort === 'number' || typeof p.targetPort === 'string' ? p.targetPort : p.port
    ports.push({ name, port: p.port, targetPort: target, protocol: portProtocol(name, asStr(p.appProtocol)) })
  }
  const ip = asStr(spec.clusterIP)
  const exportTo = obj.metadata.annotations?.['networking.istio.io/exportTo']
  const selector = asLabels(spec.selector)
  return {
    name: obj.metadata.name,
    namespace: ns,
    hostname: serviceFqdn(obj.metadata.name, ns),
    clusterIP: ip && ip !== 'None' ? ip : undefined,
    ports: ports.sort((a, b) => a.port - b.port),
    selector: Object.keys(selector).length ? selector : undefined,
    exportTo: exportTo
      ? exportTo
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : ['*'],
    labels: obj.metadata.labels ?? {},
  }
}

interface RawEndpoint {
  address: string
  ready: boolean
  targetRef?: { name?: string; namespace?: string }
  /** Endpoint port by port name. */
  ports: Map<string, number>
}

function fromEndpoints(obj: KubeObject): RawEndpoint[] {
  const out: RawEndpoint[] = []
  for (const subset of asArr(obj.subsets)) {
    const ports = new Map<string, number>()
    for (const p of asArr(subset.ports))
      if (typeof p.port === 'number' && (p.protocol ?? 'TCP') === 'TCP')
        ports.set(asStr(p.name) ?? '', p.port)
    for (const [list, ready] of [
      [subset.addresses, true],
      [subset.notReadyAddresses, false],
    ] as const) {
      for (const a of asArr(list)) {
        const ip = asStr(a.ip)
        if (ip) out.push({ address: ip, ready, targetRef: asObj(a.targetRef), ports })
      }
    }
  }
  return out
}

function fromSlice(obj: KubeObject): RawEndpoint[] {
  if (obj.addressType === 'FQDN') return []
  const ports = new Map<string, number>()
  for (const p of asArr(obj.ports))
    if (typeof p.port === 'number' && (p.protocol ?? 'TCP') === 'TCP') ports.set(asStr(p.name) ?? '', p.port)
  const out: RawEndpoint[] = []
  for (const e of asArr(obj.endpoints)) {
    const ready = asObj(e.conditions).ready !== false
    for (const a of Array.isArray(e.addresses) ? e.addresses : [])
      if (typeof a === 'string') out.push({ address: a, ready, targetRef: asObj(e.targetRef), ports })
  }
  return out
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name'

/** Builds the registry from core objects (other kinds are ignored). Pure. */
export function buildRegistry(objects: Iterable<KubeObject>): Registry {
  const services = new Map<string, Service>()
  const pods = new Map<string, PodInfo>()
  const namespaces = new Map<string, { labels: Record<string, string> }>()
  const fromEndpointsObj = new Map<string, RawEndpoint[]>()
  const fromSlices = new Map<string, RawEndpoint[]>()
  for (const obj of objects) {
    const group = obj.apiVersion.includes('/') ? obj.apiVersion.split('/')[0] : 'core'
    const ns = obj.metadata.namespace ?? 'default'
    if (group === 'core') {
      if (obj.kind === 'Service') {
        const s = toService(obj)
        if (s) services.set(s.hostname, s)
      } else if (obj.kind === 'Pod') pods.set(`${ns}/${obj.metadata.name}`, toPod(obj))
      else if (obj.kind === 'Namespace')
        namespaces.set(obj.metadata.name, { labels: obj.metadata.labels ?? {} })
      else if (obj.kind === 'Endpoints')
        fromEndpointsObj.set(serviceFqdn(obj.metadata.name, ns), fromEndpoints(obj))
    } else if (group === 'discovery.k8s.io' && obj.kind === 'EndpointSlice') {
      const svc = obj.metadata.labels?.[SERVICE_NAME_LABEL]
      if (!svc) continue
      const host = serviceFqdn(svc, ns)
      const list = fromSlices.get(host) ?? []
      list.push(...fromSlice(obj))
      fromSlices.set(host, list)
    }
  }

  const endpointCache = new Map<string, Endpoint[]>()
  const sorted = [...services.values()].sort((a, b) => (a.hostname < b.hostname ? -1 : 1))
  const registry: Registry = {
    services: sorted,
    namespaces,
    service: (hostname) => services.get(hostname),
    pod: (namespace, name) => pods.get(`${namespace}/${name}`),
    endpoints(service, port) {
      const cacheKey = `${service.hostname}|${port.name}|${port.port}`
      const hit = endpointCache.get(cacheKey)
      if (hit) return hit
      // EndpointSlices win over Endpoints when a service has both (the API server mirrors them).
      const raw = fromSlices.get(service.hostname) ?? fromEndpointsObj.get(service.hostname) ?? []
      const seen = new Set<string>()
      const out: Endpoint[] = []
      for (const r of raw) {
        const epPort =
          r.ports.get(port.name) ??
          (r.ports.size === 1 && port.name === '' ? [...r.ports.values()][0] : undefined)
        if (epPort === undefined) continue
        const id = `${r.address}:${epPort}`
        if (seen.has(id)) continue
        seen.add(id)
        const podName = r.targetRef?.name
        const pod = podName
          ? pods.get(`${r.targetRef?.namespace ?? service.namespace}/${podName}`)
          : undefined
        out.push({
          address: r.address,
          port: epPort,
          ready: r.ready,
          labels: pod?.labels ?? {},
          pod: podName,
          namespace: pod?.namespace ?? service.namespace,
          workload: pod?.workload,
          serviceAccount: pod?.serviceAccount,
          ...(pod?.sidecar ? { sidecar: true } : {}),
        })
      }
      out.sort((a, b) => (a.address === b.address ? a.port - b.port : a.address < b.address ? -1 : 1))
      endpointCache.set(cacheKey, out)
      return out
    },
  }
  return registry
}

/**
 * The container port a service port sends to on one pod: a number as is; a name looked up in the
 * pod's containers, else in the service's endpoints for the pod's address.
 */
export function resolveTargetPort(
  registry: Registry,
  service: Service,
  port: ServicePort,
  pod: { name?: string; namespace: string; ip?: string },
): number | undefined {
  if (typeof port.targetPort === 'number') return port.targetPort
  const info = pod.name ? registry.pod(pod.namespace, pod.name) : undefined
  const named = info?.namedPorts[port.targetPort]
  if (named !== undefined) return named
  const ip = pod.ip ?? info?.ip
  return registry.endpoints(service, port).find((e) => e.address === ip)?.port
}
