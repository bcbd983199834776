// Errors of `meshctl install` / `uninstall` and of the kind tooling. Each message says what went
// wrong and what to do next; callers match on `code`.
import { defineCodes, MeshError } from '@minimesh/api/errors'

const INSTALL_ERRORS = defineCodes({
  /** No kubeconfig, unknown context, or the API server cannot be reached. */
  MESH_ERR_INSTALL_NO_CLUSTER: {},
  /** The API server answered 401/403 for one of our requests. */
  MESH_ERR_INSTALL_FORBIDDEN: {},
  /** A CustomResourceDefinition of the same name exists and is not minimesh's (e.g. Istio's). */
  MESH_ERR_INSTALL_CRD_CONFLICT: {},
  /** The API server (or an admission webhook) refused an object. */
  MESH_ERR_INSTALL_REJECTED: {},
  /** A rollout or readiness wait ran out of time, or failed for good (image missing, crash loop). */
  MESH_ERR_INSTALL_TIMEOUT: {},
  /** Any other answer from the API server. */
  MESH_ERR_INSTALL_API: {},
  /** docker, kind or kubectl is missing or not working (kind tooling and `pnpm e2e`). */
  MESH_ERR_INSTALL_TOOL_MISSING: {},
  /** kind/images.txt or another input file is malformed. */
  MESH_ERR_INSTALL_INPUT: {},
})
export type InstallErrorCode = keyof typeof INSTALL_ERRORS

export class InstallError extends MeshError<InstallErrorCode> {
  static override readonly codes = INSTALL_ERRORS
}
