// Errors of @minimesh/local-cluster. Callers (meshctl, the e2e driver) match on `code`; the
// supervisor's API answers with the status declared beside each code (500 where none is).
import { defineCodes, MeshError } from '@minimesh/api/errors'

const LOCAL_CLUSTER_ERRORS = defineCodes({
  MESH_ERR_LOCAL_NOT_ROOT: {},
  MESH_ERR_LOCAL_MISSING_TOOL: {},
  MESH_ERR_LOCAL_RANGE_IN_USE: {},
  MESH_ERR_LOCAL_IMAGE: { status: 400 },
  MESH_ERR_LOCAL_KIND: { status: 400 },
  MESH_ERR_LOCAL_INVALID: { status: 400 },
  MESH_ERR_LOCAL_NOT_FOUND: { status: 404 },
  MESH_ERR_LOCAL_ADMISSION_DENIED: { status: 403 },
  MESH_ERR_LOCAL_WEBHOOK: { status: 502 },
  MESH_ERR_LOCAL_EXEC: {},
  MESH_ERR_LOCAL_ADDRESSES_EXHAUSTED: {},
  MESH_ERR_LOCAL_NOT_RUNNING: {},
  MESH_ERR_LOCAL_ALREADY_RUNNING: {},
  MESH_ERR_LOCAL_TIMEOUT: { status: 504 },
  MESH_ERR_LOCAL_SUPERVISOR: {},
})
export type LocalClusterErrorCode = keyof typeof LOCAL_CLUSTER_ERRORS

export class LocalClusterError extends MeshError<LocalClusterErrorCode> {
  static override readonly codes = LOCAL_CLUSTER_ERRORS
}

/** The apt-get line for the host tools the local cluster drives. */
export const INSTALL_HOST_TOOLS_HINT = 'apt-get update && apt-get install -y iproute2 iptables util-linux'
