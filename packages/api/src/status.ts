// What meshd made of a mesh resource, as Kubernetes keeps it: `status` with a Reconciled condition,
// observedGeneration and Istio's validationMessages. One function builds it for every place that
// shows it: meshd writes it to the API server (status subresource), meshctl shows the local
// cluster's from meshd's /debug/configz, and `meshctl get` reads either back.
import { ApiErrorCode } from './errors.ts'
import type { Finding } from './finding.ts'

/** meshd's verdict on one resource (a /debug/configz object carries these fields). */
export interface ResourceOutcome {
  /** accepted: serves as read; rejected: failed validation or analysis; ignored: not a kind meshd reads. */
  state: 'accepted' | 'rejected' | 'ignored'
  /** metadata.generation of the version meshd read. */
  generation?: number
  resourceVersion?: string
  /** For a rejected resource: whether an earlier good version still serves. */
  servingPrevious?: boolean
  /** The version that serves (this one, or the previous good one). */
  serving?: { generation?: number; resourceVersion?: string }
  findings: readonly (Pick<Finding, 'severity' | 'message'> & Partial<Pick<Finding, 'path' | 'code'>>)[]
}

/** A condition in Kubernetes' shape (metav1.Condition; Istio's IstioCondition). */
export interface MeshCondition {
  type: 'Reconciled'
  status: 'True' | 'False' | 'Unknown'
  /** Accepted, Rejected (nothing serves), RejectedServingPrevious, NotRead. */
  reason: string
  message: string
  observedGeneration?: number
  lastTransitionTime?: string
}

/** Istio's AnalysisMessageBase (type, level), with the message text and field path added. */
export interface ValidationMessage {
  type?: { code: string; name?: string }
  level: 'ERROR' | 'WARNING'
  message: string
}

export interface MeshResourceStatus {
  /** The generation this status is about (the version meshd read, accepted or not). */
  observedGeneration?: number
  conditions: MeshCondition[]
  validationMessages?: ValidationMessage[]
  /** The generation that serves when it is not the observed one (a rejected version). */
  servingGeneration?: number
}

const CODE_NAMES = new Map<string, string>(Object.entries(ApiErrorCode).map(([name, code]) => [code, name]))

function versionText(generation: number | undefined, resourceVersion: string | undefined): string {
  if (generation !== undefined) return `generation ${generation}`
  return resourceVersion !== undefined ? `resourceVersion ${resourceVersion}` : 'an earlier version'
}

const errorsOf = (o: ResourceOutcome) =>
  o.findings
    .filter((f) => f.severity === 'error')
    .map((f) => (f.path ? `${f.path}: ${f.message}` : f.message))

/**
 * The one line a user reads about a resource: `Accepted (generation 4)`, or
 * `Rejected: spec.http[0]…subset: subset "v9" is not defined …; serving generation 3`.
 */
export function outcomeText(o: ResourceOutcome): string {
  if (o.state === 'accepted') return `Accepted (${versionText(o.generation, o.resourceVersion)})`
  if (o.state === 'ignored') return 'Ignored (not a kind meshd reads)'
  const why = errorsOf(o).join('; ') || 'rejected'
  const serving = o.servingPrevious
    ? `serving ${versionText(o.serving?.generation, o.serving?.resourceVersion)}`
    : 'not served'
  return `Rejected: ${why}; ${serving}`
}

/** The status meshd reports for a resource (no timestamps: see withTransitionTime). */
export function resourceStatus(o: ResourceOutcome): MeshResourceStatus {
  const accepted = o.state === 'accepted'
  const gen = o.generation !== undefined ? { observedGeneration: o.generation } : {}
  const servingGeneration = o.state === 'rejected' && o.servingPrevious ? o.serving?.generation : undefined
  return {
    ...gen,
    conditions: [
      {
        type: 'Reconciled',
        status: accepted ? 'True' : 'False',
        reason: accepted ? 'Accepted' : o.servingPrevious ? 'RejectedServingPrevious' : 'Rejected',
        message: outcomeText(o),
        ...gen,
      },
    ],
    ...(o.findings.length
      ? {
          validationMessages: o.findings.map((f) => {
            const name = f.code ? CODE_NAMES.get(f.code) : undefined
            return {
              // A finding without a code (a schema message) has no type rather than a made-up code.
              ...(f.code ? { type: { code: f.code, ...(name ? { name } : {}) } } : {}),
              level: f.severity === 'error' ? ('ERROR' as const) : ('WARNING' as const),
              message: f.path ? `${f.path}: ${f.message}` : f.message,
            }
          }),
        }
      : {}),
    ...(servingGeneration !== undefined ? { servingGeneration } : {}),
  }
}

type Loose = Record<string, unknown>
const rec = (v: unknown): Loose | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Loose) : undefined

/** A status without its timestamps, as canonical JSON: two statuses that say the same compare equal. */
function fingerprintOf(status: unknown): string {
  const s = rec(status)
  if (!s) return 'null'
  const conditions = Array.isArray(s.conditions)
    ? s.conditions.map((c) => {
        const { lastTransitionTime: _t, lastProbeTime: _p, ...rest } = rec(c) ?? {}
        return rest
      })
    : undefined
  return canonical({ ...s, conditions })
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  const r = rec(v)
  if (!r) return JSON.stringify(v) ?? 'null'
  return `{${Object.keys(r)
    .filter((k) => r[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(r[k])}`)
    .join(',')}}`
}

/** A key that is equal for two statuses that say the same thing (timestamps aside). */
export function statusFingerprint(status: unknown): string {
  return fingerprintOf(status)
}

/**
 * `next` with each condition's lastTransitionTime: kept from `previous` (the status the object has
 * now) when that condition's status did not change, else `now`.
 */
export function withTransitionTime(
  next: MeshResourceStatus,
  previous: unknown,
  now: string,
): MeshResourceStatus {
  const before = Array.isArray(rec(previous)?.conditions) ? (rec(previous)!.conditions as unknown[]) : []
  return {
    ...next,
    conditions: next.conditions.map((c) => {
      const old = before.map(rec).find((p) => p?.type === c.type)
      const kept =
        old && old.status === c.status && typeof old.lastTransitionTime === 'string'
          ? old.lastTransitionTime
          : now
      return { ...c, lastTransitionTime: kept }
    }),
  }
}

/** What a reader makes of an object's status: the STATUS text `meshctl get` prints. */
export interface StatusReading {
  /** Accepted, Rejected, Pending (meshd has not reported on this generation), Unknown (no status). */
  state: 'Accepted' | 'Rejected' | 'Pending' | 'Unknown'
  text: string
}

/**
 * Reads a stored status against the object's current generation: a status about an older
 * generation (or none) means meshd has not reported on this version yet.
 */
export function readStatus(status: unknown, generation: number | undefined): StatusReading {
  const s = rec(status)
  const conditions = Array.isArray(s?.conditions) ? s.conditions.map(rec) : []
  const reconciled = conditions.find((c) => c?.type === 'Reconciled')
  if (!s || !reconciled)
    return { state: 'Unknown', text: 'Unknown: no status yet (is meshd running and reading this cluster?)' }
  const observed = typeof s.observedGeneration === 'number' ? s.observedGeneration : undefined
  const message = typeof reconciled.message === 'string' ? reconciled.message : String(reconciled.reason)
  if (reconciled.status === 'Unknown') return { state: 'Pending', text: message }
  if (generation !== undefined && observed !== undefined && observed < generation)
    return {
      state: 'Pending',
      text: `Pending: meshd has not reported on generation ${generation} yet (generation ${observed}: ${message})`,
    }
  return { state: reconciled.status === 'True' ? 'Accepted' : 'Rejected', text: message }
}
