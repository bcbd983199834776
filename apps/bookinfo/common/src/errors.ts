/** Stable codes callers match on; the message is for people. */
export type BookinfoErrorCode = 'MESH_ERR_BOOKINFO_CONFIG' | 'MESH_ERR_BOOKINFO_START'

/** The one error type of the Bookinfo apps: a bad setting in the environment, or a server that cannot start. */
export class BookinfoError extends Error {
  readonly code: BookinfoErrorCode

  constructor(code: BookinfoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'BookinfoError'
    this.code = code
  }
}
