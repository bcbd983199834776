// The kinds the local cluster accepts, how they are named on the command line, and object keys.
import { MESH_KINDS } from '@minimesh/api'
import type { KubeObject } from '@minimesh/api/kube'
import { LocalClusterError } from '../errors.ts'

export interface KindInfo {
  group: string
  kind: string
  plural: string
  aliases: string[]
  namespaced: boolean
  /** What the cluster does with it: `runs` (pods come of it), `uses`, or `stores` (kept, no effect here). */
  role: 'runs' | 'uses' | 'stores'
  /** Written to the state directory meshd watches. */
  forMeshd: boolean
  versions: string[]
}

const core = (kind: string, plural: string, aliases: string[], o: Partial<KindInfo> = {}): KindInfo => ({
  group: '',
  kind,
  plural,
  aliases,
  namespaced: true,
  role: 'uses',
  forMeshd: false,
  versions: ['v1'],
  ...o,
})

export const KINDS: readonly KindInfo[] = [
  core('Namespace', 'namespaces', ['ns', 'namespace'], { namespaced: false, forMeshd: true }),
  core('ServiceAccount', 'serviceaccounts', ['sa', 'serviceaccount'], { forMeshd: true }),
  core('Service', 'services', ['svc', 'service'], { forMeshd: true }),
  core('Endpoints', 'endpoints', ['ep'], { forMeshd: true }),
  core('Pod', 'pods', ['po', 'pod'], { role: 'runs', forMeshd: true }),
  // meshd reads Secrets for Gateway credentialName (TLS at the ingress gateway).
  core('Secret', 'secrets', ['secret'], { forMeshd: true }),
  core('ConfigMap', 'configmaps', ['cm', 'configmap']),
  core('Deployment', 'deployments', ['deploy', 'deployment'], { group: 'apps', role: 'runs' }),
  core('Job', 'jobs', ['job'], { group: 'batch', role: 'runs' }),
  core('MutatingWebhookConfiguration', 'mutatingwebhookconfigurations', ['mutatingwebhookconfiguration'], {
    group: 'admissionregistration.k8s.io',
    namespaced: false,
  }),
  core(
    'ValidatingWebhookConfiguration',
    'validatingwebhookconfigurations',
    ['validatingwebhookconfiguration'],
    {
      group: 'admissionregistration.k8s.io',
      namespaced: false,
    },
  ),
  core('CustomResourceDefinition', 'customresourcedefinitions', ['crd', 'crds'], {
    group: 'apiextensions.k8s.io',
    namespaced: false,
    role: 'stores',
  }),
  ...(['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'] as const).map((kind) =>
    core(kind, `${kind.toLowerCase()}s`, [kind.toLowerCase()], {
      group: 'rbac.authorization.k8s.io',
      namespaced: !kind.startsWith('Cluster'),
      role: 'stores',
    }),
  ),
  ...MESH_KINDS.map((k) =>
    core(k.kind, k.plural, [k.singular, ...(k.shortNames ?? [])], {
      group: k.group,
      versions: [...k.versions],
      forMeshd: true,
    }),
  ),
]

/** The kind info for an object; throws MESH_ERR_LOCAL_KIND for a kind the local cluster does not run. */
export function kindOf(obj: { apiVersion?: unknown; kind?: unknown }): KindInfo {
  const apiVersion = typeof obj.apiVersion === 'string' ? obj.apiVersion : ''
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion]
  const info = KINDS.find((k) => k.kind === obj.kind && k.group === group)
  if (!info?.versions.includes(version ?? '')) {
    const known = KINDS.map((k) => k.kind).join(', ')
    throw new LocalClusterError(
      'MESH_ERR_LOCAL_KIND',
      `the local cluster does not run ${String(obj.kind)} (${apiVersion || 'no apiVersion'}); it runs: ${known}`,
    )
  }
  return info
}

/** The kind named on a command line (`pods`, `po`, `svc`, `VirtualService`, `vs`…). */
export function kindByName(name: string): KindInfo {
  const n = name.toLowerCase()
  const info = KINDS.find((k) => k.plural === n || k.kind.toLowerCase() === n || k.aliases.includes(n))
  if (!info) throw new LocalClusterError('MESH_ERR_LOCAL_KIND', `unknown resource type "${name}"`)
  return info
}

export interface ObjectRef {
  kind: string
  namespace?: string
  name: string
}

/** Store key of an object: `<group>/<Kind>/<namespace or _cluster>/<name>`. */
export function keyOf(info: KindInfo, namespace: string | undefined, name: string): string {
  return `${info.group}/${info.kind}/${info.namespaced ? (namespace ?? 'default') : '_cluster'}/${name}`
}

export function objectKey(obj: KubeObject): string {
  const info = kindOf(obj)
  return keyOf(info, obj.metadata.namespace, obj.metadata.name)
}

export function formatRef(ref: ObjectRef): string {
  return `${ref.kind.toLowerCase()}/${ref.name}${ref.namespace ? ` -n ${ref.namespace}` : ''}`
}
