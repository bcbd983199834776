// Errors of @minimesh/dashboard. Callers match on `code`; `cause` keeps what went wrong underneath.

export type DashboardErrorCode =
  /** A metrics endpoint, meshd's debug endpoint or Prometheus could not be read. */
  | 'MESH_ERR_DASHBOARD_FETCH'
  /** Prometheus answered a query with an error. */
  | 'MESH_ERR_DASHBOARD_PROMQL'
  /** The dashboard's port is taken or cannot be bound. */
  | 'MESH_ERR_DASHBOARD_LISTEN'
  /** The local Prometheus could not start (no binary, bad config, port taken). */
  | 'MESH_ERR_DASHBOARD_PROMETHEUS'
  /** The addon manifest is missing or has no scrape configuration. */
  | 'MESH_ERR_DASHBOARD_ADDON'

export class DashboardError extends Error {
  readonly code: DashboardErrorCode
  constructor(code: DashboardErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'DashboardError'
    this.code = code
  }
}
