// meshd's /debug/configz and /debug/syncz as meshctl reads them, and what a user is told about one
// resource: "Accepted (generation 4)" or "Rejected: …; serving generation 3".
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

export const MESH_RESOURCE_KINDS = new Set(['VirtualService', 'DestinationRule', 'Gateway', 'QuotaPolicy'])

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

function errorsOf(o: ConfigzObject): string[] {
  return o.findings
    .filter((f) => f.severity === 'error')
    .map((f) => (f.path ? `${f.path}: ${f.message}` : f.message))
}

/** The one-line outcome of a resource: what `get` shows and `apply` warns with. */
export function statusText(o: ConfigzObject): string {
  const gen = (g: number | undefined, rv: string | undefined) =>
    g !== undefined ? `generation ${g}` : rv !== undefined ? `resourceVersion ${rv}` : 'an earlier version'
  if (o.state === 'accepted') return `Accepted (${gen(o.generation, o.resourceVersion)})`
  if (o.state === 'ignored') return 'Ignored (not a kind meshd reads)'
  const why = errorsOf(o).join('; ') || 'rejected'
  const serving = o.servingPrevious
    ? `serving ${gen(o.serving?.generation, o.serving?.resourceVersion)}`
    : 'not served'
  return `Rejected: ${why}; ${serving}`
}

/** A short STATUS column: Accepted / Rejected (serving generation 3) / Rejected (not served). */
function statusColumn(o: ConfigzObject | undefined): string {
  if (!o) return 'Unknown'
  if (o.state !== 'rejected') return o.state === 'accepted' ? 'Accepted' : 'Ignored'
  if (!o.servingPrevious) return 'Rejected (not served)'
  const g = o.serving?.generation
  return `Rejected (serving ${g !== undefined ? `generation ${g}` : 'previous'})`
}

/**
 * The Kubernetes-style status meshd reports for a resource: a Reconciled condition (True when the
 * current version serves), observedGeneration and the validation messages.
 */
export function statusObject(o: ConfigzObject): Record<string, unknown> {
  const accepted = o.state === 'accepted'
  return {
    observedGeneration: o.generation,
    conditions: [
      {
        type: 'Reconciled',
        status: accepted ? 'True' : 'False',
        reason: accepted ? 'Accepted' : o.servingPrevious ? 'RejectedServingPrevious' : 'Rejected',
        message: statusText(o),
      },
    ],
    ...(o.findings.length
      ? {
          validationMessages: o.findings.map((f) => ({
            level: f.severity === 'error' ? 'ERROR' : 'WARNING',
            ...(f.code ? { type: { code: f.code } } : {}),
            message: f.path ? `${f.path}: ${f.message}` : f.message,
          })),
        }
      : {}),
    ...(o.serving?.generation !== undefined ? { servingGeneration: o.serving.generation } : {}),
  }
}

export { proxiesSynced }
