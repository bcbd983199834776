// AdmissionReview (admission.k8s.io/v1) in and out. Anything that is not a well-formed v1 review
// becomes an InjectError MESH_ERR_INJECT_BAD_REVIEW, which the server answers with an HTTP 400. A
// review that is well formed is always answered with HTTP 200; a denial says why in
// `response.status` (a metav1.Status), whose code the API server passes on to its client.
import { MeshError, statusOf } from '@minimesh/api/errors'
import { InjectError } from '../errors.ts'
import { isRecord } from '../kube.ts'

const ADMISSION_API_VERSION = 'admission.k8s.io/v1'

type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT'
const OPERATIONS: readonly string[] = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT']

interface GroupVersionKind {
  group: string
  version: string
  kind: string
}

export interface AdmissionRequest {
  uid: string
  kind: GroupVersionKind
  operation: Operation
  namespace?: string
  name?: string
  object?: unknown
  oldObject?: unknown
  dryRun?: boolean
}

export interface AdmissionResponse {
  uid: string
  allowed: boolean
  status?: { code?: number; reason?: string; message?: string }
  patchType?: 'JSONPatch'
  /** base64 of the JSON Patch. */
  patch?: string
  warnings?: string[]
}

export interface AdmissionReview {
  apiVersion: typeof ADMISSION_API_VERSION
  kind: 'AdmissionReview'
  response: AdmissionResponse
}

function bad(message: string): InjectError {
  return new InjectError('MESH_ERR_INJECT_BAD_REVIEW', message)
}

/** The request of an AdmissionReview v1; throws MESH_ERR_INJECT_BAD_REVIEW with the reason. */
export function parseReview(body: unknown): AdmissionRequest {
  if (!isRecord(body)) throw bad('body is not a JSON object')
  if (body.apiVersion !== ADMISSION_API_VERSION) {
    throw bad(`apiVersion ${JSON.stringify(body.apiVersion)} is not supported; send ${ADMISSION_API_VERSION}`)
  }
  if (body.kind !== 'AdmissionReview') throw bad(`kind ${JSON.stringify(body.kind)} is not AdmissionReview`)
  const r = body.request
  if (!isRecord(r)) throw bad('request is missing')
  if (typeof r.uid !== 'string' || r.uid === '') throw bad('request.uid is missing')
  const k = r.kind
  if (
    !isRecord(k) ||
    typeof k.kind !== 'string' ||
    typeof k.version !== 'string' ||
    typeof k.group !== 'string'
  ) {
    throw bad('request.kind must be {group, version, kind}')
  }
  if (typeof r.operation !== 'string' || !OPERATIONS.includes(r.operation)) {
    throw bad(`request.operation ${JSON.stringify(r.operation)} is not one of ${OPERATIONS.join(', ')}`)
  }
  if ((r.operation === 'CREATE' || r.operation === 'UPDATE') && !isRecord(r.object)) {
    throw bad(`request.object must be an object for ${r.operation}`)
  }
  for (const f of ['namespace', 'name'] as const) {
    if (r[f] !== undefined && typeof r[f] !== 'string') throw bad(`request.${f} must be a string`)
  }
  return {
    uid: r.uid,
    kind: { group: k.group, version: k.version, kind: k.kind },
    operation: r.operation as Operation,
    namespace: r.namespace as string | undefined,
    name: r.name as string | undefined,
    object: r.object,
    oldObject: r.oldObject,
    dryRun: r.dryRun === true,
  }
}

export function review(response: AdmissionResponse): AdmissionReview {
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response }
}

export function allow(uid: string): AdmissionResponse {
  return { uid, allowed: true }
}

/** metav1.StatusReason of the HTTP statuses a denial can carry (Kubernetes' own names). */
const STATUS_REASONS: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
}

/**
 * A denial: `code` (an HTTP error status) is what the API server answers its client with, and
 * `reason` Kubernetes' name for it (omitted for a status Kubernetes has no name for).
 */
export function deny(uid: string, message: string, code = 400): AdmissionResponse {
  const reason = STATUS_REASONS[code]
  return { uid, allowed: false, status: reason ? { code, reason, message } : { code, message } }
}

/**
 * The denial for an error thrown while admitting: the status declared beside its code when the
 * client is at fault (4xx), else 500 (a code without a status, or not a coded error at all: the
 * webhook's own failure). The message says what was refused and ends with the code.
 */
export function denyError(uid: string, what: string, err: unknown): AdmissionResponse {
  const code = statusOf(err)
  const message = err instanceof Error ? err.message : String(err)
  const tag = err instanceof MeshError ? ` [${err.code}]` : ''
  return deny(uid, `${what}${code >= 500 ? ' failed' : ''}: ${message}${tag}`, code)
}
