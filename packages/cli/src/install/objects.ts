// Pure helpers for talking to a cluster about manifests and pods: YAML text to objects, which
// container of a meshed pod is the app's, and whether every proxy has ACKed meshd's config.

import type { KubeObject, PodTemplateSpec } from '@minimesh/api/kube'
import { parseAllDocuments } from 'yaml'
import { InstallError } from './errors.ts'

/** Kinds without a namespace (of those a manifest here may hold). */
export const CLUSTER_SCOPED_KINDS = new Set([
  'Namespace',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleBinding',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
  'IngressClass',
])

/**
 * Multi-document YAML → objects (`kind: List` flattened, empty documents skipped), each namespaced
 * object without a namespace put in `namespace` (as `kubectl apply -n` does).
 */
export function parseObjects(
  text: string,
  options: { namespace?: string; source?: string } = {},
): KubeObject[] {
  const source = options.source ?? 'manifest'
  const out: KubeObject[] = []
  const add = (value: unknown, where: string) => {
    if (value === null || value === undefined) return
    const v = value as Partial<KubeObject> & { items?: unknown[] }
    if (typeof value !== 'object' || Array.isArray(value) || !v.kind || !v.apiVersion) {
      throw new InstallError(
        'MESH_ERR_INSTALL_INPUT',
        `${where}: not a Kubernetes object (no apiVersion/kind)`,
      )
    }
    if (v.kind === 'List' || (v.kind.endsWith('List') && Array.isArray(v.items))) {
      for (const [i, item] of (v.items ?? []).entries()) add(item, `${where} item ${i}`)
      return
    }
    if (!v.metadata?.name)
      throw new InstallError('MESH_ERR_INSTALL_INPUT', `${where}: ${v.kind} has no metadata.name`)
    const obj = v as KubeObject
    if (options.namespace && !obj.metadata.namespace && !CLUSTER_SCOPED_KINDS.has(obj.kind)) {
      obj.metadata.namespace = options.namespace
    }
    out.push(obj)
  }
  parseAllDocuments(text).forEach((doc, i) => {
    const err = doc.errors[0]
    if (err) {
      throw new InstallError(
        'MESH_ERR_INSTALL_INPUT',
        `${source}: document ${i + 1}: ${err.message.split('\n')[0]}`,
      )
    }
    add(doc.toJS(), `${source}: document ${i + 1}`)
  })
  return out
}

/** The app container of a pod: kubectl's default-container annotation, else the first that is not the proxy. */
export function appContainer(pod: PodTemplateSpec): string {
  const named = pod.metadata?.annotations?.['kubectl.kubernetes.io/default-container']
  if (named) return named
  const containers = pod.spec?.containers ?? []
  const app = containers.find((c) => c.name !== 'mesh-proxy') ?? containers[0]
  if (!app) throw new InstallError('MESH_ERR_INSTALL_INPUT', 'the pod has no containers')
  return app.name
}

interface SynczEntry {
  proxy: string
  /** The snapshot version the proxy's configuration was last generated from. */
  snapshot?: number | null
  types?: Record<
    string,
    {
      sent?: string | null
      acked?: string | null
      synced?: boolean
      inflight?: boolean
      pending?: boolean
      lastNack?: { message?: string } | null
    }
  >
}

/**
 * meshd's /debug/syncz: done when at least one proxy is connected and every type of every proxy is
 * ACKed; given `snapshot` (meshd's /debug/configz snapshot version), also only once every proxy's
 * configuration was generated from that snapshot or a later one (a push still queued behind the
 * debounce or the bounded push queue shows every type synced at the older version).
 */
export function proxiesSynced(syncz: unknown, snapshot?: number): { done: boolean; message: string } {
  if (!Array.isArray(syncz)) return { done: false, message: 'meshd /debug/syncz did not return a list' }
  const proxies = syncz as SynczEntry[]
  if (proxies.length === 0) return { done: false, message: 'no proxy is connected to meshd yet' }
  const behind: string[] = []
  for (const p of proxies) {
    if (snapshot !== undefined && (p.snapshot ?? -1) < snapshot)
      behind.push(`${p.proxy} not yet generated from snapshot ${snapshot} (at ${p.snapshot ?? '-'})`)
    for (const [type, s] of Object.entries(p.types ?? {})) {
      if (s.synced && !s.inflight && !s.pending) continue
      const nack = s.lastNack?.message ? `, NACK: ${s.lastNack.message}` : ''
      behind.push(`${p.proxy} ${type} sent ${s.sent ?? '-'} acked ${s.acked ?? '-'}${nack}`)
    }
  }
  if (behind.length === 0)
    return { done: true, message: `${proxies.length} proxies have ACKed the newest config` }
  return {
    done: false,
    message: `${behind.length} resource types of ${proxies.length} proxies not ACKed yet: ${behind.slice(0, 3).join('; ')}${behind.length > 3 ? '; …' : ''}`,
  }
}
