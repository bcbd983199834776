import {
  type AuthorizationPolicy,
  analyze,
  type DestinationRule,
  type Finding,
  type Gateway,
  hasErrors,
  type PeerAuthentication,
  type QuotaPolicy,
  type VirtualService,
  validateObject,
} from '@minimesh/api'
import type { KubeObject } from '@minimesh/api/kube'
import { buildRegistry, type Registry } from './registry/registry.ts'
import { TLS_SECRET_KEYS } from './sources/normalize.ts'
import { apiGroup } from './sources/source.ts'
import type { ConfigStore } from './store.ts'

/** What became of one object read from a source (for /debug/configz and metrics). */
export interface ConfigStatus {
  key: string
  kind: string
  namespace?: string
  name: string
  origin: string
  resourceVersion?: string
  /** metadata.uid: which incarnation of the name (a delete and re-create makes a new one). */
  uid?: string
  /** metadata.generation of the object as read (Kubernetes and the local cluster set it). */
  generation?: number
  /** accepted: in use as read; rejected: failed validation or analysis; ignored: not a kind meshd reads. */
  state: 'accepted' | 'rejected' | 'ignored'
  /** For a rejected object: whether an earlier good version of it still serves. */
  servingPrevious?: boolean
  /** The generation and resourceVersion of the version that serves (this one, or the previous good one). */
  serving?: { generation?: number; resourceVersion?: string }
  /** Errors (why rejected) and warnings. */
  findings: Finding[]
}

/** An immutable view of all configuration at one moment; the translator reads only this. */
export interface ConfigSnapshot {
  readonly version: number
  /** Date.now() when built. */
  readonly builtAt: number
  readonly registry: Registry
  /** Accepted mesh resources, oldest first (creationTimestamp, then namespace and name): Istio's order. */
  readonly virtualServices: readonly VirtualService[]
  readonly destinationRules: readonly DestinationRule[]
  readonly gateways: readonly Gateway[]
  readonly quotaPolicies: readonly QuotaPolicy[]
  readonly authorizationPolicies: readonly AuthorizationPolicy[]
  /**
   * Secrets by `<namespace>/<name>`: their TLS keys only (tls.crt, tls.key, ca.crt, cert, key,
   * cacert), decoded to text. Gateways' credentialName reads them.
   */
  readonly secrets: ReadonlyMap<string, SecretData>
  readonly peerAuthentications: readonly PeerAuthentication[]
  /** Every object read, sorted by key. */
  readonly status: readonly ConfigStatus[]
  /** Problems with an origin (a file that does not parse), by origin. */
  readonly originProblems: ReadonlyMap<string, readonly Finding[]>
}

/** The TLS keys of one Secret, decoded (PEM text). */
export type SecretData = Readonly<Partial<Record<(typeof TLS_SECRET_KEYS)[number], string>>>

/**
 * A Secret's TLS keys as text: `data` (base64, as the API server and `kubectl get -o yaml` give
 * it) and `stringData` (as people write it in a file; it wins, as the API server merges it).
 */
export function secretData(obj: KubeObject): SecretData {
  const out: Partial<Record<(typeof TLS_SECRET_KEYS)[number], string>> = {}
  const data = obj.data as Record<string, unknown> | undefined
  const stringData = obj.stringData as Record<string, unknown> | undefined
  for (const k of TLS_SECRET_KEYS) {
    const plain = stringData?.[k]
    const b64 = data?.[k]
    if (typeof plain === 'string') out[k] = plain
    else if (typeof b64 === 'string') out[k] = Buffer.from(b64, 'base64').toString('utf8')
  }
  return out
}

const CORE_KINDS = new Set([
  'core/Secret',
  'core/Service',
  'core/Endpoints',
  'core/Pod',
  'core/Namespace',
  'discovery.k8s.io/EndpointSlice',
])
const MESH_GROUPS: Record<string, string> = {
  VirtualService: 'networking.istio.io',
  DestinationRule: 'networking.istio.io',
  Gateway: 'networking.istio.io',
  QuotaPolicy: 'policy.minimesh.dev',
  AuthorizationPolicy: 'security.istio.io',
  PeerAuthentication: 'security.istio.io',
}

function isMesh(obj: KubeObject): boolean {
  const g = apiGroup(obj.apiVersion)
  return g.endsWith('.istio.io') || g === 'policy.minimesh.dev'
}

function compareAge(a: KubeObject, b: KubeObject): number {
  const ta = a.metadata.creationTimestamp ?? ''
  const tb = b.metadata.creationTimestamp ?? ''
  if (ta !== tb) return ta < tb ? -1 : 1
  const na = `${a.metadata.namespace ?? ''}/${a.metadata.name}`
  const nb = `${b.metadata.namespace ?? ''}/${b.metadata.name}`
  return na < nb ? -1 : na > nb ? 1 : 0
}

/** `{generation}` when the object has one (Kubernetes and the local cluster set it on write). */
function generationOf(obj: KubeObject): { generation?: number } {
  const g = obj.metadata.generation
  return typeof g === 'number' ? { generation: g } : {}
}

/** `{uid}` when the object has one. */
function uidOf(obj: KubeObject): { uid?: string } {
  return typeof obj.metadata.uid === 'string' ? { uid: obj.metadata.uid } : {}
}

/** Fills in the namespace an object without one lives in (as `kubectl apply` without -n). */
function withNamespace(obj: KubeObject): KubeObject {
  if (obj.metadata.namespace || obj.kind === 'Namespace') return obj
  return { ...obj, metadata: { ...obj.metadata, namespace: 'default' } }
}

/**
 * Builds snapshots from a ConfigStore. Keeps, per object, the last version that passed validation
 * and analysis: a bad new version is reported and the previous good one keeps serving.
 */
export class SnapshotBuilder {
  private version = 0
  private readonly lastGood = new Map<string, KubeObject>()
  private readonly schemaFindings = new WeakMap<KubeObject, Finding[]>()

  build(store: ConfigStore): ConfigSnapshot {
    const core: KubeObject[] = []
    const services: KubeObject[] = []
    /** Secrets' identities only, for analysis (a Gateway's credentialName). */
    const secretRefs: KubeObject[] = []
    const secrets = new Map<string, SecretData>()
    const status: ConfigStatus[] = []
    /** Mesh objects whose current version passes schema validation, or their last good version. */
    const candidates = new Map<string, KubeObject>()
    const currentMesh = new Map<string, { obj: KubeObject; origin: string; schema: Finding[] }>()
    const seen = new Set<string>()

    for (const stored of store.values()) {
      const obj = withNamespace(stored.object)
      const base = {
        key: stored.key,
        kind: obj.kind,
        namespace: obj.metadata.namespace,
        name: obj.metadata.name,
        origin: stored.origin,
        resourceVersion: obj.metadata.resourceVersion,
        ...uidOf(obj),
        ...generationOf(obj),
      }
      seen.add(stored.key)
      if (obj.kind === 'Secret' && apiGroup(obj.apiVersion) === 'core') {
        secrets.set(`${obj.metadata.namespace}/${obj.metadata.name}`, secretData(obj))
        secretRefs.push({ apiVersion: 'v1', kind: 'Secret', metadata: obj.metadata })
        status.push({ ...base, state: 'accepted', findings: [] })
        continue
      }
      if (CORE_KINDS.has(`${apiGroup(obj.apiVersion)}/${obj.kind}`)) {
        core.push(obj)
        if (obj.kind === 'Service') services.push(obj)
        status.push({ ...base, state: 'accepted', findings: [] })
        continue
      }
      if (!isMesh(obj)) {
        status.push({ ...base, state: 'ignored', findings: [] })
        continue
      }
      let schema = this.schemaFindings.get(stored.object)
      if (!schema) {
        schema = validateObject({
          object: obj,
          file: stored.origin.startsWith('/') ? stored.origin : undefined,
          lineOf: () => undefined,
        })
        this.schemaFindings.set(stored.object, schema)
      }
      currentMesh.set(stored.key, { obj, origin: stored.origin, schema })
      if (!hasErrors(schema)) candidates.set(stored.key, obj)
      else {
        const prev = this.lastGood.get(stored.key)
        if (prev) candidates.set(stored.key, prev)
      }
    }
    for (const key of this.lastGood.keys()) if (!seen.has(key)) this.lastGood.delete(key)

    // Cross-resource analysis over what would serve; errors reject the current version.
    const analysis = new Map<string, Finding[]>()
    const inputs = [...candidates.values(), ...services, ...secretRefs]
    for (const f of analyze(inputs)) {
      if (!f.kind || !MESH_GROUPS[f.kind]) continue
      const key = `${MESH_GROUPS[f.kind]}/${f.kind}/${f.namespace ?? 'default'}/${f.name ?? ''}`
      const list = analysis.get(key) ?? []
      list.push(f)
      analysis.set(key, list)
    }

    const accepted: KubeObject[] = []
    for (const [key, cur] of currentMesh) {
      const candidate = candidates.get(key)
      const isCurrent = candidate !== undefined && candidate === cur.obj
      const found = isCurrent ? [...cur.schema, ...(analysis.get(key) ?? [])] : cur.schema
      const ok = isCurrent && !hasErrors(found)
      const prev = this.lastGood.get(key)
      if (ok) {
        this.lastGood.set(key, cur.obj)
        accepted.push(cur.obj)
      } else if (prev) accepted.push(prev)
      status.push({
        key,
        kind: cur.obj.kind,
        namespace: cur.obj.metadata.namespace,
        name: cur.obj.metadata.name,
        origin: cur.origin,
        resourceVersion: cur.obj.metadata.resourceVersion,
        ...uidOf(cur.obj),
        ...generationOf(cur.obj),
        state: ok ? 'accepted' : 'rejected',
        ...(ok ? {} : { servingPrevious: prev !== undefined }),
        ...(ok || prev
          ? {
              serving: {
                ...generationOf((ok ? cur.obj : prev)!),
                resourceVersion: (ok ? cur.obj : prev)!.metadata.resourceVersion,
              },
            }
          : {}),
        findings: found,
      })
    }

    accepted.sort(compareAge)
    status.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    const byKind = (kind: string) => accepted.filter((o) => o.kind === kind)
    return {
      version: ++this.version,
      builtAt: Date.now(),
      registry: buildRegistry(core),
      virtualServices: byKind('VirtualService') as unknown as VirtualService[],
      destinationRules: byKind('DestinationRule') as unknown as DestinationRule[],
      gateways: byKind('Gateway') as unknown as Gateway[],
      quotaPolicies: byKind('QuotaPolicy') as unknown as QuotaPolicy[],
      authorizationPolicies: byKind('AuthorizationPolicy') as unknown as AuthorizationPolicy[],
      secrets,
      peerAuthentications: byKind('PeerAuthentication') as unknown as PeerAuthentication[],
      status,
      originProblems: new Map(store.originProblems()),
    }
  }
}
