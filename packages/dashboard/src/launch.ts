// What `meshctl dashboard` starts, as a library call: where the mesh is (the local cluster, a
// Kubernetes context, or a meshd URL), where metrics come from (a Prometheus URL, the addon
// started here on the local cluster or read through the API server, or the proxies scraped
// directly), and the dashboard server over them.
import { accessSync, constants } from 'node:fs'
import { LocalClusterClient, supervisorStatus } from '@minimesh/local-cluster'
import { directEndpoints, type MeshEndpoints } from './access/http.ts'
import { kubeEndpoints } from './access/kube.ts'
import { type LocalPrometheus, startLocalPrometheus } from './prometheus/local.ts'
import { type Dashboard, startDashboard } from './server.ts'

/** The local cluster runs meshd in the host netns on the bridge address. */
export const LOCAL_MESHD = 'http://198.18.0.1:15014'

export interface LaunchOptions {
  /** local: the local cluster of runDir; kube: the kubeconfig's cluster; auto: local when one runs here. */
  target?: 'auto' | 'local' | 'kube'
  runDir?: string
  /** meshd's monitoring URL (a port-forward, or the local cluster's default). */
  meshdUrl?: string
  kubeconfig?: string
  context?: string
  namespace?: string
  /**
   * auto: the local cluster starts Debian's prometheus when it is installed, Kubernetes scrapes the
   * proxies through the API server; addon: start it (local) or read the addon (Kubernetes);
   * off: scrape the proxies; a URL: that Prometheus.
   */
  prometheus?: 'auto' | 'addon' | 'off' | string
  prometheusBinary?: string
  zipkinUrl?: string
  host?: string
  port?: number
  windowSeconds?: number
  intervalMs?: number
  /** Progress lines. */
  log?: (line: string) => void
}

export interface Launched extends Dashboard {
  prometheus?: LocalPrometheus
  endpoints: MeshEndpoints
}

function hasBinary(name: string): boolean {
  if (name.includes('/')) return executable(name)
  return (process.env.PATH ?? '').split(':').some((d) => d && executable(`${d}/${name}`))
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

export async function launchDashboard(o: LaunchOptions = {}): Promise<Launched> {
  const log = o.log ?? (() => {})
  const target =
    o.target && o.target !== 'auto'
      ? o.target
      : o.meshdUrl || supervisorStatus(o.runDir).running
        ? 'local'
        : 'kube'
  const prom = o.prometheus ?? 'auto'
  const url = /^https?:\/\//.test(prom) ? prom : undefined
  let endpoints: MeshEndpoints
  let local: LocalPrometheus | undefined
  if (target === 'kube') {
    endpoints = kubeEndpoints({
      ...(o.kubeconfig ? { kubeconfig: o.kubeconfig } : {}),
      ...(o.context ? { context: o.context } : {}),
      ...(o.namespace ? { namespace: o.namespace } : {}),
      prometheus: prom === 'addon',
    })
    if (url) endpoints = { ...endpoints, prometheus: url.replace(/\/$/, '') }
  } else {
    const wantLocal = prom === 'addon' || (prom === 'auto' && hasBinary(o.prometheusBinary ?? 'prometheus'))
    if (wantLocal) {
      log("starting Prometheus (the addon's scrape jobs, targets from the local cluster)")
      local = await startLocalPrometheus({
        cluster: { get: (kind) => new LocalClusterClient(o.runDir).get(kind) },
        ...(o.prometheusBinary ? { binary: o.prometheusBinary } : {}),
      })
      log(`Prometheus: ${local.url}`)
    }
    endpoints = directEndpoints({
      meshd: o.meshdUrl ?? LOCAL_MESHD,
      describe: o.meshdUrl ? `meshd at ${o.meshdUrl}` : 'local cluster',
      ...(url || local ? { prometheus: url ?? local!.url } : {}),
    })
  }
  try {
    const d = await startDashboard({
      endpoints,
      ...(o.host ? { host: o.host } : {}),
      ...(o.port !== undefined ? { port: o.port } : {}),
      ...(o.windowSeconds ? { windowSeconds: o.windowSeconds } : {}),
      ...(o.intervalMs ? { intervalMs: o.intervalMs } : {}),
      ...(o.zipkinUrl ? { zipkinUrl: o.zipkinUrl } : {}),
    })
    return {
      ...d,
      endpoints,
      ...(local ? { prometheus: local } : {}),
      async close() {
        await d.close()
        await local?.close()
      },
    }
  } catch (err) {
    await local?.close()
    throw err
  }
}
