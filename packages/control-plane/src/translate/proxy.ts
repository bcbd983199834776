import { type Node, parseNodeId } from '@minimesh/api'
import { ControlPlaneError } from '../errors.ts'

/** What the translator knows about the proxy it builds configuration for. */
export interface ProxyInfo {
  id: string
  type: 'sidecar' | 'router'
  /** The pod's address (the node id's). */
  ip: string
  namespace: string
  podName: string
  workloadName: string
  serviceAccount: string
  labels: Record<string, string>
}

/**
 * Reads a proxy from its discovery Node. The node id (`sidecar~<ip>~<pod>.<ns>~<ns>.svc.cluster.local`)
 * gives type, address, pod and namespace; Node fields, when set, win over what the id implies.
 */
export function proxyFromNode(node: Partial<Node> | null | undefined): ProxyInfo {
  const id = node?.id ?? ''
  const parts = parseNodeId(id)
  if (!parts)
    throw new ControlPlaneError(
      'MESH_ERR_XDS_NODE',
      `node id ${JSON.stringify(id)} is not <sidecar|router>~<ip>~<pod>.<namespace>~<namespace>.svc.cluster.local`,
    )
  const dot = parts.id.lastIndexOf('.')
  const podFromId = dot > 0 ? parts.id.slice(0, dot) : parts.id
  const nsFromId = dot > 0 ? parts.id.slice(dot + 1) : parts.domain.split('.')[0] || 'default'
  const labels: Record<string, string> = {}
  for (const [k, v] of Object.entries(node?.labels ?? {})) if (typeof v === 'string') labels[k] = v
  return {
    id,
    type: parts.type,
    ip: parts.ip,
    namespace: node?.namespace || nsFromId,
    podName: node?.pod_name || podFromId,
    workloadName: node?.workload_name || podFromId,
    serviceAccount: node?.service_account || 'default',
    labels,
  }
}
