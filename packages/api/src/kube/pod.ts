// Pod, its spec and its containers: the fields the injector rewrites and the local cluster runs.
import type { NewObject, ObjectMeta } from './meta.ts'

export interface ResourceRequirements {
  requests?: Record<string, string>
  limits?: Record<string, string>
  [key: string]: unknown
}

export interface ContainerPort {
  name?: string
  containerPort: number
  protocol?: string
  [key: string]: unknown
}

export interface HttpGetAction {
  path?: string
  port: number | string
  host?: string
  scheme?: string
  httpHeaders?: { name: string; value: string }[]
  [key: string]: unknown
}

export interface Probe {
  httpGet?: HttpGetAction
  tcpSocket?: { port: number | string; host?: string }
  exec?: { command: string[] }
  grpc?: { port: number; service?: string }
  initialDelaySeconds?: number
  periodSeconds?: number
  timeoutSeconds?: number
  successThreshold?: number
  failureThreshold?: number
  [key: string]: unknown
}

export interface EnvVar {
  name: string
  value?: string
  valueFrom?: {
    fieldRef?: { fieldPath: string; apiVersion?: string }
    secretKeyRef?: { name: string; key: string; optional?: boolean }
    configMapKeyRef?: { name: string; key: string; optional?: boolean }
    resourceFieldRef?: { resource: string; containerName?: string }
    [key: string]: unknown
  }
}

export interface EnvFromSource {
  configMapRef?: { name: string }
  secretRef?: { name: string }
  prefix?: string
}

/** A container's or a pod's security context (the fields read; the rest kept). */
export interface SecurityContext {
  runAsUser?: number
  runAsGroup?: number
  runAsNonRoot?: boolean
  [key: string]: unknown
}

export interface VolumeMount {
  name: string
  mountPath: string
  subPath?: string
  readOnly?: boolean
  [key: string]: unknown
}

/** A lifecycle hook; the local cluster runs `exec` and `sleep` ones (httpGet is not supported). */
export interface LifecycleHandler {
  exec?: { command: string[] }
  sleep?: { seconds: number }
  [key: string]: unknown
}

export interface Container {
  name: string
  image?: string
  command?: string[]
  args?: string[]
  env?: EnvVar[]
  envFrom?: EnvFromSource[]
  ports?: ContainerPort[]
  resources?: ResourceRequirements
  readinessProbe?: Probe
  livenessProbe?: Probe
  startupProbe?: Probe
  securityContext?: SecurityContext
  volumeMounts?: VolumeMount[]
  workingDir?: string
  /** Only `Always`, on an init container: a native sidecar (runs beside the containers). */
  restartPolicy?: 'Always'
  lifecycle?: { postStart?: LifecycleHandler; preStop?: LifecycleHandler }
  [key: string]: unknown
}

interface KeyToPath {
  key: string
  path: string
}

/** One source of a projected volume (Kubernetes' VolumeProjection). */
export interface ProjectedSource {
  serviceAccountToken?: { audience?: string; expirationSeconds?: number; path: string }
  configMap?: { name: string; items?: KeyToPath[]; optional?: boolean }
  secret?: { name: string; items?: KeyToPath[]; optional?: boolean }
  downwardAPI?: { items?: { path: string; fieldRef?: { fieldPath: string; apiVersion?: string } }[] }
  [key: string]: unknown
}

export interface Volume {
  name: string
  emptyDir?: Record<string, unknown>
  secret?: { secretName: string; items?: KeyToPath[]; optional?: boolean }
  configMap?: { name: string; items?: KeyToPath[]; optional?: boolean }
  projected?: { sources?: ProjectedSource[]; defaultMode?: number }
  [key: string]: unknown
}

export interface PodSpec {
  containers: Container[]
  initContainers?: Container[]
  volumes?: Volume[]
  serviceAccountName?: string
  /** The deprecated alias of serviceAccountName. */
  serviceAccount?: string
  restartPolicy?: 'Always' | 'OnFailure' | 'Never'
  securityContext?: SecurityContext
  terminationGracePeriodSeconds?: number
  hostNetwork?: boolean
  enableServiceLinks?: boolean
  [key: string]: unknown
}

/** A condition of an object's status (a pod's Ready, a Deployment's Progressing, …). */
export interface Condition {
  type: string
  status: 'True' | 'False' | 'Unknown'
  reason?: string
  message?: string
  [key: string]: unknown
}

export interface ContainerStatus {
  name: string
  image?: string
  ready?: boolean
  started?: boolean
  restartCount?: number
  state?: {
    waiting?: { reason?: string; message?: string }
    running?: { startedAt?: string }
    terminated?: { exitCode: number; reason?: string; finishedAt?: string; [key: string]: unknown }
  }
  [key: string]: unknown
}

/** What the kubelet (or the local cluster) reports of a pod. */
export interface PodStatus {
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown'
  message?: string
  hostIP?: string
  podIP?: string
  podIPs?: { ip: string }[]
  conditions?: Condition[]
  initContainerStatuses?: ContainerStatus[]
  containerStatuses?: ContainerStatus[]
  [key: string]: unknown
}

/** A pod being created: a controller's has `generateName` and no name until it is created. */
export interface NewPod extends NewObject {
  spec: PodSpec
  status?: PodStatus
}

/** A pod that exists (a KubeObject: it has a name). */
export interface Pod extends NewPod {
  metadata: ObjectMeta & { name: string }
}

/**
 * PodTemplateSpec: a pod without apiVersion, kind or (necessarily) a name — a workload's
 * `spec.template`. Both fields are optional, as in Kubernetes' OpenAPI: the injector, which is
 * given a Pod or a template as unchecked JSON (an AdmissionReview, a manifest), takes this type
 * and checks `spec` before it reads it.
 */
export interface PodTemplateSpec {
  metadata?: ObjectMeta
  spec?: PodSpec
  [key: string]: unknown
}
