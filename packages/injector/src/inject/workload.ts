import type { PodTemplateSpec } from '@minimesh/api/kube'

/**
 * The name of the workload a pod belongs to, as Istio derives it: the Deployment for a pod of a
 * ReplicaSet (the owner's name without the pod-template-hash), the CronJob for a pod of a
 * scheduled Job, else the controller's name, else the generateName stem, else the pod's name.
 */
export function workloadName(pod: PodTemplateSpec): string {
  const meta = pod.metadata ?? {}
  const hash = meta.labels?.['pod-template-hash']
  const owner = meta.ownerReferences?.find((o) => o.controller) ?? meta.ownerReferences?.[0]
  const strip = (name: string) => (hash && name.endsWith(`-${hash}`) ? name.slice(0, -hash.length - 1) : name)
  if (owner?.name) {
    if (owner.kind === 'ReplicaSet') return strip(owner.name)
    if (owner.kind === 'Job') return owner.name.replace(/-\d{8,}$/, '')
    return owner.name
  }
  if (meta.generateName) return strip(meta.generateName.replace(/-$/, ''))
  return meta.name ?? ''
}
