// Applied objects: their shape checked, defaults filled, and how they are referred to.

import type { Deployment, Job, KubeObject, Pod } from '@minimesh/api/kube'
import { LocalClusterError } from '../errors.ts'
import { type KindInfo, kindOf, type ObjectRef } from './kinds.ts'
import { matchesSelector } from './selector.ts'

export function defaultContainer(pod: Pod): string {
  return (
    pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'] ??
    pod.spec.containers[0]?.name ??
    ''
  )
}

export function refOf(obj: KubeObject, info: KindInfo): ObjectRef {
  return info.namespaced
    ? { kind: obj.kind, namespace: obj.metadata.namespace ?? 'default', name: obj.metadata.name }
    : { kind: obj.kind, name: obj.metadata.name }
}

/** Checks an applied object's shape and fills the namespace default. */
export function normalize(raw: Record<string, unknown>): KubeObject {
  const obj = structuredClone(raw) as KubeObject
  const info = kindOf(obj)
  if (typeof obj.metadata !== 'object' || obj.metadata === null) {
    throw new LocalClusterError('MESH_ERR_LOCAL_INVALID', `${obj.kind}: metadata is required`)
  }
  if (!obj.metadata.name || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(obj.metadata.name)) {
    throw new LocalClusterError(
      'MESH_ERR_LOCAL_INVALID',
      `${obj.kind}: metadata.name "${obj.metadata.name ?? ''}" must be a DNS-1123 name`,
    )
  }
  if (info.namespaced) obj.metadata.namespace ??= 'default'
  else delete obj.metadata.namespace
  if (info.kind === 'Deployment') {
    const d = obj as Deployment
    if (!d.spec?.template?.spec?.containers?.length)
      throw new LocalClusterError(
        'MESH_ERR_LOCAL_INVALID',
        `deployment ${obj.metadata.name}: spec.template.spec.containers is required`,
      )
    if (!matchesSelector(d.spec.selector, d.spec.template.metadata?.labels) || !d.spec.selector) {
      throw new LocalClusterError(
        'MESH_ERR_LOCAL_INVALID',
        `deployment ${obj.metadata.name}: spec.selector does not match template labels`,
      )
    }
  }
  if (info.kind === 'Job') {
    const spec = (obj as Job).spec?.template?.spec
    if (!spec?.containers?.length)
      throw new LocalClusterError(
        'MESH_ERR_LOCAL_INVALID',
        `job ${obj.metadata.name}: spec.template.spec.containers is required`,
      )
    if (spec.restartPolicy !== 'Never' && spec.restartPolicy !== 'OnFailure')
      throw new LocalClusterError(
        'MESH_ERR_LOCAL_INVALID',
        `job ${obj.metadata.name}: spec.template.spec.restartPolicy must be Never or OnFailure`,
      )
  }
  if (info.kind === 'Pod' && !(obj as Pod).spec?.containers?.length) {
    throw new LocalClusterError(
      'MESH_ERR_LOCAL_INVALID',
      `pod ${obj.metadata.name}: spec.containers is required`,
    )
  }
  return obj
}
