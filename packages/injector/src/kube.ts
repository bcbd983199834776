// The slice of the Kubernetes Pod API the injector reads and writes. Fields it does not know
// are carried through untouched (index signatures), so nothing in a pod is lost.

export type Labels = Record<string, string>

export interface ObjectMeta {
  name?: string
  generateName?: string
  namespace?: string
  labels?: Labels
  annotations?: Record<string, string>
  ownerReferences?: { kind?: string; name?: string; controller?: boolean; [k: string]: unknown }[]
  [k: string]: unknown
}

export interface ResourceRequirements {
  requests?: Record<string, string>
  limits?: Record<string, string>
}

export interface ContainerPort {
  name?: string
  containerPort: number
  protocol?: string
  [k: string]: unknown
}

export interface HttpGetAction {
  path?: string
  port: number | string
  host?: string
  scheme?: string
  httpHeaders?: { name: string; value: string }[]
}

export interface Probe {
  httpGet?: HttpGetAction
  tcpSocket?: { port: number | string; host?: string }
  exec?: unknown
  grpc?: unknown
  timeoutSeconds?: number
  [k: string]: unknown
}

export interface EnvVar {
  name: string
  value?: string
  valueFrom?: { fieldRef?: { apiVersion?: string; fieldPath: string }; [k: string]: unknown }
}

export interface Container {
  name: string
  image?: string
  ports?: ContainerPort[]
  readinessProbe?: Probe
  livenessProbe?: Probe
  startupProbe?: Probe
  env?: EnvVar[]
  [k: string]: unknown
}

export interface Volume {
  name: string
  [k: string]: unknown
}

export interface PodSpec {
  containers: Container[]
  initContainers?: Container[]
  volumes?: Volume[]
  hostNetwork?: boolean
  serviceAccountName?: string
  [k: string]: unknown
}

export interface Pod {
  apiVersion?: string
  kind?: string
  metadata?: ObjectMeta
  spec?: PodSpec
  [k: string]: unknown
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * A deep copy of a JSON value (objects, arrays, primitives), several times faster than
 * structuredClone for pod-sized objects. A `__proto__` key stays an own property.
 */
export function cloneJson<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) return value.map(cloneJson) as T
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value)) {
    const v = cloneJson((value as Record<string, unknown>)[key])
    if (key === '__proto__') {
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true })
    } else out[key] = v
  }
  return out as T
}
