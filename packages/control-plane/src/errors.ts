// Errors of @minimesh/control-plane. Callers match on `code`; `cause` keeps what went wrong underneath.
import { defineCodes, MeshError } from '@minimesh/api/errors'

const CONTROL_PLANE_ERRORS = defineCodes({
  /** A command-line flag that is unknown, misses its value or has a bad one (usage follows; exit 2). */
  MESH_ERR_MESHD_BAD_FLAG: {},
  /** A listen address that is not `host:port`. */
  MESH_ERR_MESHD_ADDRESS: {},
  /** A port meshd must listen on is taken. */
  MESH_ERR_MESHD_PORT_IN_USE: {},
  /** Listening failed for another reason (permission, unknown host). */
  MESH_ERR_MESHD_LISTEN: {},
  /** `--config-dir` is missing, not a directory, or unreadable. */
  MESH_ERR_MESHD_CONFIG_DIR: {},
  /** No Kubernetes configuration (not in a cluster, no KUBECONFIG, no ~/.kube/config). */
  MESH_ERR_MESHD_KUBECONFIG: {},
  /** The webhook certificate or key cannot be read. */
  MESH_ERR_MESHD_WEBHOOK: {},
  /** A resource's status cannot be written to the API server (RBAC, no status subresource, network). */
  MESH_ERR_MESHD_STATUS: {},
  /** A proxy's first request has no usable node (id `sidecar~ip~pod.ns~ns.svc.cluster.local`). */
  MESH_ERR_XDS_NODE: {},
  /** The plug-in CA (`cacerts`) is incomplete or inconsistent (key does not match, chain does not verify). */
  MESH_ERR_CA_PLUGIN: {},
  /** The CA's root cannot be read or kept (state dir, Secret `minimesh-ca`). */
  MESH_ERR_CA_STORE: {},
  /** A CSR that cannot be parsed or whose signature does not verify. */
  MESH_ERR_CA_CSR: {},
  /** A CSR that asks for an identity other than the caller's. */
  MESH_ERR_CA_IDENTITY: {},
  /** A caller without a valid token (missing, malformed, expired, wrong audience, unknown pod). */
  MESH_ERR_CA_TOKEN: {},
})
export type ControlPlaneErrorCode = keyof typeof CONTROL_PLANE_ERRORS

export class ControlPlaneError extends MeshError<ControlPlaneErrorCode> {
  static override readonly codes = CONTROL_PLANE_ERRORS
}
