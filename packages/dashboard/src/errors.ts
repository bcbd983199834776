// Errors of @minimesh/dashboard. Callers match on `code`; `cause` keeps what went wrong underneath.
import { defineCodes, MeshError } from '@minimesh/api/errors'

const DASHBOARD_ERRORS = defineCodes({
  /** A metrics endpoint, meshd's debug endpoint or Prometheus could not be read. */
  MESH_ERR_DASHBOARD_FETCH: {},
  /** Prometheus answered a query with an error. */
  MESH_ERR_DASHBOARD_PROMQL: {},
  /** The dashboard's port is taken or cannot be bound. */
  MESH_ERR_DASHBOARD_LISTEN: {},
  /** The local Prometheus could not start (no binary, bad config, port taken). */
  MESH_ERR_DASHBOARD_PROMETHEUS: {},
  /** The addon manifest is missing or has no scrape configuration. */
  MESH_ERR_DASHBOARD_ADDON: {},
})
export type DashboardErrorCode = keyof typeof DASHBOARD_ERRORS

export class DashboardError extends MeshError<DashboardErrorCode> {
  static override readonly codes = DASHBOARD_ERRORS
}
