// How the dashboard reaches meshd, the proxies and Prometheus: a GET that returns the body, behind
// one small interface. Directly (the local cluster's addresses are routable from the host; a
// port-forward) or through the Kubernetes API server's proxy (access/kube.ts).
import { PROXY_STATUS_PORT } from '@minimesh/api/ports'
import { DashboardError } from '../errors.ts'

export type HttpGet = (url: string) => Promise<string>

/** A plain GET with a timeout; a non-2xx answer or a network error is MESH_ERR_DASHBOARD_FETCH. */
export function plainGet(timeoutMs = 3000): HttpGet {
  return async (url) => {
    let res: Response
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause
      throw new DashboardError(
        'MESH_ERR_DASHBOARD_FETCH',
        `GET ${url}: ${cause?.code ?? (err as Error).message}`,
        { cause: err },
      )
    }
    const body = await res.text()
    if (!res.ok)
      throw new DashboardError(
        'MESH_ERR_DASHBOARD_FETCH',
        `GET ${url}: ${res.status} ${body.slice(0, 200).trim()}`,
      )
    return body
  }
}

/** A connected proxy, from meshd's /debug/syncz node id `sidecar~<ip>~<pod>.<ns>~<ns>.svc.cluster.local`. */
export interface ProxyTarget {
  id: string
  type: string
  ip: string
  pod: string
  namespace: string
}

/** Reads a node id; undefined when it is not of that shape. */
export function parseNodeId(id: string): ProxyTarget | undefined {
  const parts = id.split('~')
  if (parts.length !== 4) return undefined
  const [type, ip, podNs] = parts as [string, string, string, string]
  const dot = podNs.lastIndexOf('.')
  if (!ip || dot <= 0) return undefined
  return { id, type, ip, pod: podNs.slice(0, dot), namespace: podNs.slice(dot + 1) }
}

/** Where each thing is, as URLs for one HttpGet. */
export interface MeshEndpoints {
  /** What the UI says it is connected to (`local cluster`, `Kubernetes context kind-minimesh`). */
  describe: string
  get: HttpGet
  /** meshd's monitoring port base URL (15014), no trailing slash. */
  meshd: string
  /** A proxy's scraped metrics (/stats/prometheus on its status port: the default, PROXY_STATUS_PORT). */
  proxyMetrics(target: ProxyTarget): string
  /** Prometheus's base URL, when one is used. */
  prometheus?: string
}

/** Endpoints reached directly: meshd at a URL, proxies at their pod IP (the local cluster, a flat network). */
export function directEndpoints(options: {
  meshd: string
  prometheus?: string
  describe?: string
  get?: HttpGet
}): MeshEndpoints {
  return {
    describe: options.describe ?? `meshd at ${options.meshd}`,
    get: options.get ?? plainGet(),
    meshd: options.meshd.replace(/\/$/, ''),
    proxyMetrics: (t) =>
      `http://${t.ip.includes(':') ? `[${t.ip}]` : t.ip}:${PROXY_STATUS_PORT}/stats/prometheus`,
    ...(options.prometheus ? { prometheus: options.prometheus.replace(/\/$/, '') } : {}),
  }
}
