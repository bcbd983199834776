// Reading objects with what meshd made of them, the same on both cluster kinds. On Kubernetes meshd
// writes each mesh resource's status to the API server, so it comes with the object; the local
// cluster has no such write, so its status is filled in from meshd's /debug/configz with the same
// function meshd writes with (@minimesh/api resourceStatus).
import { resourceStatus } from '@minimesh/api'
import type { KubeObject } from '@minimesh/api/kube'
import type { KindInfo } from '@minimesh/local-cluster'
import { type Configz, findConfig, hasRead, MESH_RESOURCE_KINDS } from './configz.ts'
import { wantedVersion } from './sync.ts'
import { LocalTarget, type MeshTarget } from './target.ts'

/** The status of a version meshd has not read yet. */
const NOT_READ = {
  conditions: [
    {
      type: 'Reconciled',
      status: 'Unknown',
      reason: 'NotRead',
      message: 'Pending: meshd has not read this version yet',
    },
  ],
}

/**
 * Fills in each mesh resource's status from meshd's /debug/configz, where Kubernetes keeps it
 * (status.conditions, observedGeneration, validationMessages). Without a reachable meshd (a bare
 * local cluster) the objects stay as they are.
 */
async function withStatusFromMeshd(target: MeshTarget, items: KubeObject[]): Promise<void> {
  let configz: Configz
  try {
    configz = await target.meshd<Configz>('/debug/configz')
  } catch {
    return
  }
  for (const o of items) {
    if (!MESH_RESOURCE_KINDS.has(o.kind)) continue
    const found = findConfig(configz, o.kind, o.metadata.namespace, o.metadata.name)
    const held = wantedVersion(o)
    o.status =
      found && hasRead(found, { ...held, resourceVersion: held.resourceVersion ?? '' })
        ? resourceStatus(found)
        : NOT_READ
  }
}

/** `meshctl get`'s read: the objects, and for mesh resources meshd's verdict as their status. */
export async function getWithStatus(
  target: MeshTarget,
  kind: KindInfo,
  namespace: string | undefined,
  name?: string,
  selector?: string,
): Promise<KubeObject[]> {
  const items = await target.get(kind, namespace, name, selector)
  if (target instanceof LocalTarget && MESH_RESOURCE_KINDS.has(kind.kind) && items.length > 0)
    await withStatusFromMeshd(target, items)
  return items
}
