// Status to the API server: a JSON patch of `/status` on the resource's status subresource (the
// CRDs meshctl installs have one; meshd's ClusterRole may patch `<plural>/status`).
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node'
import { MESH_KINDS, type MeshResourceStatus } from '@minimesh/api'
import { ControlPlaneError } from '../errors.ts'
import type { StatusTarget, StatusWriter } from './reporter.ts'

const KIND_DEFS = new Map(MESH_KINDS.map((k) => [`${k.group}/${k.kind}`, k]))

export class KubernetesStatusWriter implements StatusWriter {
  private readonly api: CustomObjectsApi

  constructor(kc: KubeConfig) {
    this.api = kc.makeApiClient(CustomObjectsApi)
  }

  async write(target: StatusTarget, status: MeshResourceStatus): Promise<'written' | 'gone'> {
    const def = KIND_DEFS.get(`${target.group}/${target.kind}`)
    if (!def)
      throw new ControlPlaneError(
        'MESH_ERR_MESHD_STATUS',
        `no status is written for ${target.group} ${target.kind}`,
      )
    try {
      await this.api.patchNamespacedCustomObjectStatus({
        group: def.group,
        // The version meshd watches (the CRDs' storage version); every served version shares status.
        version: def.versions[0]!,
        namespace: target.namespace,
        plural: def.plural,
        name: target.name,
        // `add` sets /status whether or not the object has one yet.
        body: [{ op: 'add', path: '/status', value: status }],
      })
      return 'written'
    } catch (err) {
      const code = (err as { code?: number }).code
      if (code === 404) return 'gone'
      throw new ControlPlaneError(
        'MESH_ERR_MESHD_STATUS',
        `cannot write the status of ${target.kind} ${target.namespace}/${target.name}${code ? ` (HTTP ${code})` : ''}: ${(err as Error).message.split('\n')[0]}${code === 403 ? `; meshd's ClusterRole needs patch on ${def.plural}/status in ${def.group} (reinstall with meshctl install)` : ''}`,
        { cause: err },
      )
    }
  }
}
