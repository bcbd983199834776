// Errors of @minimesh/injector. Callers match on `code`; `cause` keeps what went wrong underneath.
// A code with a `status` is the client's fault (the pod, or the review itself): the webhook answers
// with that status. Every other code reaching the webhook is the injector's own fault: a 500.
import { defineCodes, MeshError } from '@minimesh/api/errors'

const INJECT_ERRORS = defineCodes({
  /** The object is not a pod we can inject (no spec.containers, wrong shape). */
  MESH_ERR_INJECT_INVALID_POD: { status: 400 },
  /** A `traffic.sidecar.minimesh.dev/*` or `sidecar.minimesh.dev/*` annotation has a bad value. */
  MESH_ERR_INJECT_BAD_ANNOTATION: { status: 400 },
  /** The pod already has a container or volume with a name the injector needs. */
  MESH_ERR_INJECT_CONFLICT: { status: 400 },
  /** The pod's `sidecar.minimesh.dev/template` label names a template the injector does not have. */
  MESH_ERR_INJECT_UNKNOWN_TEMPLATE: { status: 400 },
  /** The status annotation of an injected pod cannot be read (uninject). */
  MESH_ERR_INJECT_BAD_STATUS: {},
  /** An AdmissionReview that is not JSON, not admission.k8s.io/v1, or misses required fields. */
  MESH_ERR_INJECT_BAD_REVIEW: { status: 400 },
  /** Serving certificate or key cannot be read or used. */
  MESH_ERR_INJECT_CERTIFICATE: {},
  /** An InjectConfig value is out of range. */
  MESH_ERR_INJECT_BAD_CONFIG: {},
  /** A manifest given to kube-inject cannot be parsed. */
  MESH_ERR_INJECT_BAD_MANIFEST: {},
})
export type InjectErrorCode = keyof typeof INJECT_ERRORS

export class InjectError extends MeshError<InjectErrorCode> {
  static override readonly codes = INJECT_ERRORS
}
