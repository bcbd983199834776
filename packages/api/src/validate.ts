import { ApiErrorCode } from './errors.ts'
import type { Finding } from './finding.ts'
import { findKind, findKindAnyVersion, isMeshGroup } from './resources/index.ts'
import { checkValue, formatPath } from './schema/index.ts'
import { type SourcedObject, unsourced } from './yaml/load.ts'

/** Identity of a resource for findings. */
export function resourceRef(obj: Record<string, unknown>): Pick<Finding, 'kind' | 'namespace' | 'name'> {
  const meta = (typeof obj.metadata === 'object' && obj.metadata !== null ? obj.metadata : {}) as Record<
    string,
    unknown
  >
  return {
    kind: typeof obj.kind === 'string' ? obj.kind : undefined,
    namespace: typeof meta.namespace === 'string' ? meta.namespace : undefined,
    name: typeof meta.name === 'string' ? meta.name : undefined,
  }
}

/**
 * Validates one object. Mesh kinds (networking.istio.io, policy.minimesh.dev) are checked against
 * their schema; a kind in an Istio group that minimesh does not implement (ServiceEntry,
 * PeerAuthentication, …) is an error; other kinds (Services, Deployments, …) are not minimesh's
 * to check and pass. Something that is not a Kubernetes object (no apiVersion or kind) is an error.
 * Returns every problem found, each with its field path and, where known, file and line.
 */
export function validateObject(input: SourcedObject | Record<string, unknown>): Finding[] {
  const src: SourcedObject =
    'lineOf' in input && typeof input.lineOf === 'function'
      ? (input as SourcedObject)
      : unsourced(input as Record<string, unknown>)
  const obj = src.object
  const ref = resourceRef(obj)
  const at = (path: string, code: string, message: string): Finding[] => [
    { severity: 'error', code, message, path, ...ref, file: src.file, line: src.lineOf([path]) },
  ]
  if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') {
    const missing = typeof obj.apiVersion !== 'string' ? 'apiVersion' : 'kind'
    return at(missing, ApiErrorCode.Required, `not a Kubernetes object: "${missing}" must be a string`)
  }
  const def = findKind(obj.apiVersion, obj.kind)
  if (!def) {
    const other = findKindAnyVersion(obj.apiVersion, obj.kind)
    if (other)
      return at(
        'apiVersion',
        ApiErrorCode.Kind,
        `${obj.kind} is not served in ${obj.apiVersion}; use ${other.versions.map((v) => `${other.group}/${v}`).join(', ')}`,
      )
    if (isMeshGroup(obj.apiVersion))
      return at('kind', ApiErrorCode.Kind, `minimesh does not implement ${obj.kind} in ${obj.apiVersion}`)
    return []
  }
  return checkValue(def.schema, obj).map((issue) => ({
    severity: issue.severity ?? 'error',
    code: issue.code,
    message: issue.message,
    path: formatPath(issue.path),
    ...ref,
    file: src.file,
    line: src.lineOf(issue.path),
  }))
}

/** True when minimesh validates this object (it is one of the mesh kinds). */
export function isMeshResource(obj: Record<string, unknown>): boolean {
  return findKind(obj.apiVersion, obj.kind) !== undefined || isMeshGroup(obj.apiVersion)
}
