// The workloads that make pods from a template: Deployment and Job.
import type { KubeObject, LabelSelector } from './meta.ts'
import type { Condition, PodSpec, PodTemplateSpec } from './pod.ts'

/** A workload's pod template: the API server rejects a workload whose template has no spec. */
export interface WorkloadTemplate extends PodTemplateSpec {
  spec: PodSpec
}

export interface Deployment extends KubeObject {
  spec: {
    replicas?: number
    selector: LabelSelector
    template: WorkloadTemplate
    [key: string]: unknown
  }
  status?: {
    observedGeneration?: number
    replicas?: number
    updatedReplicas?: number
    readyReplicas?: number
    availableReplicas?: number
    conditions?: Condition[]
    [key: string]: unknown
  }
}

export interface Job extends KubeObject {
  spec: {
    template: WorkloadTemplate
    completions?: number
    backoffLimit?: number
    [key: string]: unknown
  }
}
