// What every Kubernetes object has: apiVersion, kind and metadata (ObjectMeta), and the label
// selectors that pick objects by their labels.

export type Labels = Record<string, string>

/**
 * An owner of an object (the ReplicaSet of a pod, …). The API server requires apiVersion and uid
 * too; they are optional here because nothing in minimesh reads them and meshd keeps only kind
 * and name of what it watches.
 */
export interface OwnerReference {
  apiVersion?: string
  kind: string
  name: string
  uid?: string
  controller?: boolean
  blockOwnerDeletion?: boolean
}

/**
 * ObjectMeta. `name` is optional as in Kubernetes: a pod template has none, and a pod sent with
 * `generateName` gets one only when it is created. Timestamps are RFC 3339 strings, as in JSON
 * and YAML (client-node's classes turn them into Dates; meshd turns them back).
 */
export interface ObjectMeta {
  name?: string
  generateName?: string
  namespace?: string
  uid?: string
  labels?: Labels
  annotations?: Record<string, string>
  ownerReferences?: OwnerReference[]
  creationTimestamp?: string
  deletionTimestamp?: string
  resourceVersion?: string
  generation?: number
  [key: string]: unknown
}

/**
 * An object on its way to be created, which may have only `generateName` (a pod a controller
 * makes, as admission webhooks see it). Fields the model does not name are kept as they are
 * (index signature): nothing in an object is lost.
 */
export interface NewObject {
  apiVersion: string
  kind: string
  metadata: ObjectMeta
  [key: string]: unknown
}

/** An object that exists (applied, stored, read from an API server), so it has a name. */
export interface KubeObject extends NewObject {
  metadata: ObjectMeta & { name: string }
}

export interface LabelSelectorRequirement {
  key: string
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'
  values?: string[]
}

export interface LabelSelector {
  matchLabels?: Labels
  matchExpressions?: LabelSelectorRequirement[]
}
