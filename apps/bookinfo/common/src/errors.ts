// The Bookinfo apps stand for a user's workload: like Istio's Bookinfo they depend on nothing of
// the mesh, so this catalogue has the shape of @minimesh/api's defineCodes without importing it.

/** Stable codes callers match on; the message is for people. */
const BOOKINFO_ERRORS = {
  /** A bad setting in the environment. */
  MESH_ERR_BOOKINFO_CONFIG: {},
  /** A server that cannot start. */
  MESH_ERR_BOOKINFO_START: {},
} as const
export type BookinfoErrorCode = keyof typeof BOOKINFO_ERRORS

/** The one error type of the Bookinfo apps: a bad setting in the environment, or a server that cannot start. */
export class BookinfoError extends Error {
  readonly code: BookinfoErrorCode

  constructor(code: BookinfoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'BookinfoError'
    this.code = code
  }
}
