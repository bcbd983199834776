// Errors of @minimesh/init. Callers match on `code`; `cause` keeps what went wrong underneath.

export type InitErrorCode =
  | 'MESH_ERR_IPTABLES_BAD_FLAG'
  | 'MESH_ERR_IPTABLES_MISSING'
  | 'MESH_ERR_IPTABLES_NOT_ROOT'
  | 'MESH_ERR_IPTABLES_RESTORE'
  | 'MESH_ERR_IPTABLES_SAVE'
  | 'MESH_ERR_IPTABLES_UNSUPPORTED'

export class InitError extends Error {
  readonly code: InitErrorCode
  constructor(code: InitErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'InitError'
    this.code = code
  }
}

/** What to run when the iptables binaries are absent (Debian/Ubuntu images and hosts). */
export const INSTALL_IPTABLES_HINT = 'apt-get update && apt-get install -y iptables'
