// Errors of @minimesh/init. Callers match on `code`; `cause` keeps what went wrong underneath.
import { defineCodes, MeshError } from '@minimesh/api/errors'

const INIT_ERRORS = defineCodes({
  /** A command-line flag is wrong (usage follows). */
  MESH_ERR_IPTABLES_BAD_FLAG: {},
  /** iptables-save / iptables-restore are not installed. */
  MESH_ERR_IPTABLES_MISSING: {},
  /** Installing rules needs root (CAP_NET_ADMIN). */
  MESH_ERR_IPTABLES_NOT_ROOT: {},
  /** iptables-restore refused the rules. */
  MESH_ERR_IPTABLES_RESTORE: {},
  /** iptables-save failed (reading the current rules). */
  MESH_ERR_IPTABLES_SAVE: {},
  /** A mode or family this host or build does not support. */
  MESH_ERR_IPTABLES_UNSUPPORTED: {},
})
export type InitErrorCode = keyof typeof INIT_ERRORS

export class InitError extends MeshError<InitErrorCode> {
  static override readonly codes = INIT_ERRORS
}

/** What to run when the iptables binaries are absent (Debian/Ubuntu images and hosts). */
export const INSTALL_IPTABLES_HINT = 'apt-get update && apt-get install -y iptables'
