// The slice of the Kubernetes object model the local cluster reads. Loose on purpose: objects are
// stored as applied, and only these fields are interpreted.

export type Labels = Record<string, string>

interface OwnerReference {
  apiVersion: string
  kind: string
  name: string
  uid: string
  controller?: boolean
}

export interface ObjectMeta {
  name?: string
  generateName?: string
  namespace?: string
  uid?: string
  labels?: Labels
  annotations?: Record<string, string>
  ownerReferences?: OwnerReference[]
  creationTimestamp?: string
  resourceVersion?: string
  generation?: number
  [key: string]: unknown
}

export interface KubeObject {
  apiVersion: string
  kind: string
  metadata: ObjectMeta
  [key: string]: unknown
}

interface LabelSelectorRequirement {
  key: string
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'
  values?: string[]
}

export interface LabelSelector {
  matchLabels?: Labels
  matchExpressions?: LabelSelectorRequirement[]
}

export interface EnvVar {
  name: string
  value?: string
  valueFrom?: {
    fieldRef?: { fieldPath: string; apiVersion?: string }
    secretKeyRef?: { name: string; key: string; optional?: boolean }
    configMapKeyRef?: { name: string; key: string; optional?: boolean }
    resourceFieldRef?: { resource: string; containerName?: string }
  }
}

interface ContainerPort {
  name?: string
  containerPort: number
  protocol?: string
}

export interface Probe {
  httpGet?: {
    path?: string
    port: number | string
    host?: string
    scheme?: string
    httpHeaders?: { name: string; value: string }[]
  }
  tcpSocket?: { port: number | string; host?: string }
  exec?: { command: string[] }
  initialDelaySeconds?: number
  periodSeconds?: number
  timeoutSeconds?: number
  successThreshold?: number
  failureThreshold?: number
}

interface SecurityContext {
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
}

export interface Container {
  name: string
  image?: string
  command?: string[]
  args?: string[]
  env?: EnvVar[]
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string }; prefix?: string }[]
  ports?: ContainerPort[]
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

/** A lifecycle hook; the local cluster runs `exec` and `sleep` ones (httpGet is not supported). */
export interface LifecycleHandler {
  exec?: { command: string[] }
  sleep?: { seconds: number }
  [key: string]: unknown
}

export interface Volume {
  name: string
  emptyDir?: Record<string, unknown>
  secret?: { secretName: string; items?: { key: string; path: string }[]; optional?: boolean }
  configMap?: { name: string; items?: { key: string; path: string }[]; optional?: boolean }
  projected?: { sources?: ProjectedSource[]; defaultMode?: number }
  [key: string]: unknown
}

/** One source of a projected volume (Kubernetes' VolumeProjection). */
export interface ProjectedSource {
  serviceAccountToken?: { audience?: string; expirationSeconds?: number; path: string }
  configMap?: { name: string; items?: { key: string; path: string }[]; optional?: boolean }
  secret?: { name: string; items?: { key: string; path: string }[]; optional?: boolean }
  downwardAPI?: { items?: { path: string; fieldRef?: { fieldPath: string } }[] }
}

export interface PodSpec {
  containers: Container[]
  initContainers?: Container[]
  volumes?: Volume[]
  serviceAccountName?: string
  serviceAccount?: string
  restartPolicy?: 'Always' | 'OnFailure' | 'Never'
  securityContext?: SecurityContext
  terminationGracePeriodSeconds?: number
  hostNetwork?: boolean
  enableServiceLinks?: boolean
  [key: string]: unknown
}

export interface Pod extends KubeObject {
  spec: PodSpec
  status?: Record<string, unknown>
}

export interface ServicePort {
  name?: string
  port: number
  targetPort?: number | string
  protocol?: string
  nodePort?: number
  appProtocol?: string
}

export interface Service extends KubeObject {
  spec: {
    selector?: Labels
    ports?: ServicePort[]
    clusterIP?: string
    clusterIPs?: string[]
    type?: string
    [key: string]: unknown
  }
}

export interface Job extends KubeObject {
  spec: {
    template: { metadata?: ObjectMeta; spec: PodSpec }
    completions?: number
    backoffLimit?: number
    [key: string]: unknown
  }
}

export interface Deployment extends KubeObject {
  spec: {
    replicas?: number
    selector: LabelSelector
    template: { metadata?: ObjectMeta; spec: PodSpec }
    [key: string]: unknown
  }
}
