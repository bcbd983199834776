// meshd's /debug/configz and /debug/syncz as meshctl reads them. What a user is told about one
// resource ("Accepted (generation 4)", "Rejected: …; serving generation 3") and the status shown
// for it come from @minimesh/api (outcomeText, resourceStatus), as meshd writes it on Kubernetes.
import { proxiesSynced } from '../install/objects.ts'

interface ConfigzFinding {
  severity: 'error' | 'warning'
  message: string
  path?: string
  code?: string
  text?: string
}

export interface ConfigzObject {
  key: string
  kind: string
  namespace?: string
  name: string
  origin: string
  resourceVersion?: string
  uid?: string
  generation?: number
  state: 'accepted' | 'rejected' | 'ignored'
  servingPrevious?: boolean
  serving?: { generation?: number; resourceVersion?: string }
  findings: ConfigzFinding[]
}

export interface Configz {
  source: string
  snapshot: { version: number; builtAt: string } | null
  rejected?: number
  objects: ConfigzObject[]
}

export interface SynczType {
  sent: string | null
  acked: string | null
  synced: boolean
  inflight: boolean
  pending: boolean
  pushes?: number
  sentAt?: string | null
  ackedAt?: string | null
  lastNack: { version: string; message: string; at: string } | null
}

export interface SynczProxy {
  proxy: string
  type: string
  namespace?: string
  peer?: string
  connectedAt?: string
  snapshot: number | null
  types: Record<string, SynczType>
}

/** The mesh kinds meshd reports on (every CRD meshctl installs). */
export const MESH_RESOURCE_KINDS = new Set([
  'VirtualService',
  'DestinationRule',
  'Gateway',
  'QuotaPolicy',
  'PeerAuthentication',
  'AuthorizationPolicy',
])

export function findConfig(
  configz: Configz,
  kind: string,
  namespace: string | undefined,
  name: string,
): ConfigzObject | undefined {
  return configz.objects.find(
    (o) => o.kind === kind && o.name === name && (o.namespace ?? 'default') === (namespace ?? 'default'),
  )
}

/** A version of a resource as the cluster holds it. */
export interface HeldVersion {
  resourceVersion: string
  uid?: string
  generation?: number
}

/**
 * Whether meshd has read `held` (or later) of this resource: the same resourceVersion, or the
 * same object (uid) at the same or a later generation. The second matters on Kubernetes, where
 * meshd's own status write bumps the resourceVersion without changing what it read.
 */
export function hasRead(o: ConfigzObject | undefined, held: HeldVersion): boolean {
  if (!o) return false
  if (o.resourceVersion === held.resourceVersion) return true
  return (
    held.uid !== undefined &&
    o.uid === held.uid &&
    held.generation !== undefined &&
    o.generation !== undefined &&
    o.generation >= held.generation
  )
}

export { proxiesSynced }
