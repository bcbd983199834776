// The Kubernetes object model of minimesh: the one definition of Pod, Container, Service,
// Deployment, ObjectMeta, … that the injector, the local cluster, meshd and meshctl share.
//
// Why hand-written and not @kubernetes/client-node's V1Pod, V1Service, …:
// - Honest optionality. client-node makes every field optional (V1Pod.spec?, V1Probe.httpGet.port
//   as IntOrString, …), so every reader would need `!` or checks for fields the API server always
//   sets or that the local cluster checked on apply. Here `Pod.spec`, `Container.name`,
//   `PodSpec.containers`, `KubeObject.metadata.name` are required, as Kubernetes requires them.
// - The JSON shape. These objects are plain JSON: AdmissionReviews, YAML manifests, the local
//   cluster's store, meshd's normalized watch events. client-node's types describe its class
//   instances (creationTimestamp: Date), which none of them are.
// - Nothing lost. Every interface has an index signature, so fields the model does not name
//   (a pod's tolerations, a Service's sessionAffinity) pass through a rewrite untouched — the
//   injector must return every field of the pod it was given.
// - No dependency. The injector and the local cluster do not depend on client-node; this model
//   is types only and costs nothing at run time.
// The model names only the fields minimesh reads or writes; add a field here when code needs it.
export type {
  KubeObject,
  LabelSelector,
  LabelSelectorRequirement,
  Labels,
  NewObject,
  ObjectMeta,
  OwnerReference,
} from './meta.ts'
export type {
  Condition,
  Container,
  ContainerPort,
  ContainerStatus,
  EnvFromSource,
  EnvVar,
  HttpGetAction,
  LifecycleHandler,
  NewPod,
  Pod,
  PodSpec,
  PodStatus,
  PodTemplateSpec,
  Probe,
  ProjectedSource,
  ResourceRequirements,
  SecurityContext,
  Volume,
  VolumeMount,
} from './pod.ts'
export type {
  EndpointAddress,
  EndpointPort,
  EndpointSubset,
  Endpoints,
  Service,
  ServicePort,
} from './service.ts'
export type { Deployment, Job, WorkloadTemplate } from './workload.ts'
