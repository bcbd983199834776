// Errors of @minimesh/local-cluster. Callers (meshctl, the e2e driver) match on `code`.

export type LocalClusterErrorCode =
  | 'MESH_ERR_LOCAL_NOT_ROOT'
  | 'MESH_ERR_LOCAL_MISSING_TOOL'
  | 'MESH_ERR_LOCAL_RANGE_IN_USE'
  | 'MESH_ERR_LOCAL_IMAGE'
  | 'MESH_ERR_LOCAL_KIND'
  | 'MESH_ERR_LOCAL_INVALID'
  | 'MESH_ERR_LOCAL_NOT_FOUND'
  | 'MESH_ERR_LOCAL_ADMISSION_DENIED'
  | 'MESH_ERR_LOCAL_WEBHOOK'
  | 'MESH_ERR_LOCAL_EXEC'
  | 'MESH_ERR_LOCAL_ADDRESSES_EXHAUSTED'
  | 'MESH_ERR_LOCAL_NOT_RUNNING'
  | 'MESH_ERR_LOCAL_ALREADY_RUNNING'
  | 'MESH_ERR_LOCAL_TIMEOUT'
  | 'MESH_ERR_LOCAL_SUPERVISOR'

export class LocalClusterError extends Error {
  readonly code: LocalClusterErrorCode
  constructor(code: LocalClusterErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'LocalClusterError'
    this.code = code
  }
}

/** The apt-get line for the host tools the local cluster drives. */
export const INSTALL_HOST_TOOLS_HINT = 'apt-get update && apt-get install -y iproute2 iptables util-linux'
