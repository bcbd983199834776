export {
  directEndpoints,
  type HttpGet,
  type MeshEndpoints,
  type ProxyTarget,
  parseNodeId,
  plainGet,
} from './access/http.ts'
export { kubeEndpoints, podProxyPath, serviceProxyPath } from './access/kube.ts'
export { Collector, type DashboardState } from './collector.ts'
export { DashboardError, type DashboardErrorCode } from './errors.ts'
export { type Launched, type LaunchOptions, LOCAL_MESHD, launchDashboard } from './launch.ts'
export { buildGraph, type GraphEdge, type GraphNode, type MeshGraph } from './metrics/graph.ts'
export { parsePrometheusText, type Sample } from './metrics/parse.ts'
export { promQuery, rateQueries } from './metrics/prometheus.ts'
export { ADDON_MANIFEST, localConfig, readAddonConfig } from './prometheus/addon.ts'
export { type LocalPrometheus, startLocalPrometheus } from './prometheus/local.ts'
export { type Dashboard, type DashboardOptions, startDashboard } from './server.ts'
export { traceLink } from './trace-link.ts'
