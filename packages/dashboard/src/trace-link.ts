// An edge's trace link: the Zipkin UI's trace search, from the client's service to the server's,
// over the last 15 minutes. Service names as Istio's proxies report them to Zipkin: the workload's
// canonical service (its name without the version suffix) and namespace, `reviews.default`.
import type { GraphNode } from './metrics/graph.ts'

/** `reviews-v2` with version `v2` → `reviews`. */
function canonicalService(node: GraphNode): string {
  const suffix = `-${node.version}`
  return node.version !== 'unknown' && node.workload.endsWith(suffix)
    ? node.workload.slice(0, -suffix.length)
    : node.workload
}

function zipkinService(node: GraphNode): string {
  const name = canonicalService(node)
  return node.namespace ? `${name}.${node.namespace}` : name
}

/** The Zipkin UI search URL for traces across an edge; undefined for an edge from outside the mesh. */
export function traceLink(
  zipkinUrl: string,
  source?: GraphNode,
  destination?: GraphNode,
): string | undefined {
  if (!destination) return undefined
  const base = zipkinUrl.replace(/\/$/, '')
  const ui = base.endsWith('/zipkin') ? base : `${base}/zipkin`
  const q = new URLSearchParams()
  if (source && source.kind === 'workload') {
    q.set('serviceName', zipkinService(source))
    q.set('remoteServiceName', zipkinService(destination))
  } else q.set('serviceName', zipkinService(destination))
  q.set('lookback', String(15 * 60 * 1000))
  q.set('limit', '20')
  return `${ui}/?${q}`
}
