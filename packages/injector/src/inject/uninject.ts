import type { PodTemplateSpec } from '@minimesh/api/kube'
import { cloneJson } from '../kube.ts'
import { STATUS_ANNOTATION } from '../names.ts'
import { removeProxyAdditions } from './gateway.ts'
import { restoreProbes } from './probes.ts'
import { parseStatus } from './status.ts'

/**
 * Takes out what `inject` added, using the status annotation: for any pod p,
 * `uninject(inject(p))` deep-equals p. A pod without the annotation comes back unchanged (a copy).
 * Throws MESH_ERR_INJECT_BAD_STATUS when the annotation is not one inject wrote.
 */
export function uninject(pod: PodTemplateSpec): PodTemplateSpec {
  const raw = pod.metadata?.annotations?.[STATUS_ANNOTATION]
  if (raw === undefined) return cloneJson(pod)
  const status = parseStatus(raw)
  const out = cloneJson(pod)
  const spec = out.spec
  if (spec) {
    const drop = <T extends { name: string }>(list: T[] | undefined, names: string[]) =>
      list?.filter((item) => !names.includes(item?.name))
    spec.containers = drop(spec.containers, status.containers) ?? spec.containers
    if (spec.initContainers) spec.initContainers = drop(spec.initContainers, status.initContainers)
    if (spec.volumes) spec.volumes = drop(spec.volumes, status.volumes)
    if (status.probes)
      restoreProbes([...(spec.containers ?? []), ...(spec.initContainers ?? [])], status.probes)
    removeProxyAdditions(out, status)
  }
  const meta = out.metadata!
  const annotations = meta.annotations!
  for (const key of [...status.annotations, STATUS_ANNOTATION]) delete annotations[key]
  const created = new Set(status.created ?? [])
  if (spec && created.has('spec.initContainers') && spec.initContainers?.length === 0)
    delete spec.initContainers
  if (spec && created.has('spec.volumes') && spec.volumes?.length === 0) delete spec.volumes
  if (created.has('metadata.annotations') && Object.keys(annotations).length === 0) delete meta.annotations
  if (created.has('metadata') && Object.keys(meta).length === 0) delete out.metadata
  return out
}
