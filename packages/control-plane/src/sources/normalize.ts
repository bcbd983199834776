import type { KubeObject } from '@minimesh/api/kube'

type Obj = Record<string, unknown>
const rec = (v: unknown): Obj | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.map((x) => rec(x) ?? {}) : [])
const time = (v: unknown): string | undefined =>
  v instanceof Date ? v.toISOString() : typeof v === 'string' ? v : undefined
const strings = (v: unknown): Record<string, string> | undefined => {
  const r = rec(v)
  if (!r) return undefined
  const out: Record<string, string> = {}
  for (const [k, x] of Object.entries(r)) if (typeof x === 'string') out[k] = x
  return out
}
/** Keys of a Secret that hold TLS material (kubernetes.io/tls and Istio's generic form). */
export const TLS_SECRET_KEYS = ['tls.crt', 'tls.key', 'ca.crt', 'cert', 'key', 'cacert'] as const

/** The one Pod annotation meshd reads: the injector's status (the pod has the sidecar: auto mTLS). */
const SIDECAR_STATUS = 'sidecar.minimesh.dev/status'
const podAnnotations = (v: unknown): Record<string, string> | undefined => {
  const status = rec(v)?.[SIDECAR_STATUS]
  return typeof status === 'string' ? { [SIDECAR_STATUS]: status } : undefined
}

const defined = (o: Obj): Obj => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))

/**
 * Keeps only what meshd reads of an object from the API server (as plain JSON; client-node's list
 * calls give class instances with Dates, its watch gives JSON). Pods and Services shrink a lot.
 */
export function normalize(apiVersion: string, kind: string, input: unknown): KubeObject | undefined {
  const obj = rec(input)
  const meta = rec(obj?.metadata)
  if (!obj || !meta || typeof meta.name !== 'string') return undefined
  const metadata = defined({
    name: meta.name,
    namespace: typeof meta.namespace === 'string' ? meta.namespace : undefined,
    labels: strings(meta.labels),
    annotations: kind === 'Pod' ? podAnnotations(meta.annotations) : strings(meta.annotations),
    creationTimestamp: time(meta.creationTimestamp),
    resourceVersion: typeof meta.resourceVersion === 'string' ? meta.resourceVersion : undefined,
    uid: typeof meta.uid === 'string' ? meta.uid : undefined,
    generation: typeof meta.generation === 'number' ? meta.generation : undefined,
    ownerReferences: Array.isArray(meta.ownerReferences)
      ? list(meta.ownerReferences).map((o) => ({ kind: String(o.kind), name: String(o.name) }))
      : undefined,
  }) as KubeObject['metadata']
  const base: KubeObject = { apiVersion, kind, metadata }
  const spec = rec(obj.spec) ?? {}
  switch (kind) {
    case 'Namespace':
      return base
    case 'Service':
      return {
        ...base,
        spec: defined({
          type: spec.type,
          clusterIP: spec.clusterIP,
          selector: strings(spec.selector),
          ports: list(spec.ports).map((p) =>
            defined({
              name: p.name,
              port: p.port,
              targetPort: p.targetPort,
              protocol: p.protocol,
              appProtocol: p.appProtocol,
            }),
          ),
        }),
      }
    case 'Pod': {
      const status = rec(obj.status) ?? {}
      return {
        ...base,
        spec: defined({
          serviceAccountName: spec.serviceAccountName,
          containers: list(spec.containers).map((c) => ({
            name: c.name,
            ports: list(c.ports).map((p) => defined({ name: p.name, containerPort: p.containerPort })),
          })),
        }),
        status: defined({ podIP: status.podIP, phase: status.phase }),
      }
    }
    case 'Endpoints':
      return { ...base, subsets: obj.subsets ?? [] }
    case 'Secret': {
      // Only the keys a gateway certificate is read from: other Secrets' contents never stay here.
      const data = strings(obj.data) ?? {}
      const kept: Record<string, string> = {}
      for (const k of TLS_SECRET_KEYS) if (data[k] !== undefined) kept[k] = data[k]
      return { ...base, type: obj.type, data: kept }
    }
    case 'EndpointSlice':
      return {
        ...base,
        addressType: obj.addressType,
        endpoints: list(obj.endpoints).map((e) =>
          defined({
            addresses: e.addresses,
            conditions: defined({ ready: rec(e.conditions)?.ready }),
            targetRef: e.targetRef,
          }),
        ),
        ports: obj.ports ?? [],
      }
    default:
      // Mesh resources: the whole spec (validation reports what minimesh does not read), and the
      // status as the API server holds it (what meshd wrote last: it writes only what differs).
      return obj.status === undefined
        ? { ...base, spec: obj.spec }
        : { ...base, spec: obj.spec, status: obj.status }
  }
}
