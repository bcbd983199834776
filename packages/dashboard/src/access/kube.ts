// The dashboard on Kubernetes, from a workstation: meshd, every proxy and the Prometheus addon
// are read through the API server's proxy subresources (services/<name>:<port>/proxy,
// pods/<name>:<port>/proxy), with the kubeconfig's credentials. No port-forward, nothing exposed.

import { request as httpRequest } from 'node:http'
import { request } from 'node:https'
import type { KubeConfig } from '@kubernetes/client-node'
import { KubeConfigError, loadKubeConfig } from '@minimesh/api/kubeconfig'
import { PROXY_STATUS_PORT } from '@minimesh/api/ports'
import { DashboardError } from '../errors.ts'
import type { HttpGet, MeshEndpoints } from './http.ts'

export interface KubeEndpointsOptions {
  /** A kubeconfig file (default: KUBECONFIG, else ~/.kube/config, else the pod's service account). */
  kubeconfig?: string
  context?: string
  /** minimesh's namespace (meshd, and the Prometheus addon). */
  namespace?: string
  /** Read metrics from the Prometheus addon (service prometheus:9090 in `namespace`). */
  prometheus?: boolean
}

/** The API-server proxy path of a service port (`/api/v1/namespaces/ns/services/name:port/proxy`). */
export function serviceProxyPath(namespace: string, service: string, port: number): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(service)}:${port}/proxy`
}

/** The API-server proxy path of a pod port. */
export function podProxyPath(namespace: string, pod: string, port: number): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}:${port}/proxy`
}

/** A GET with the kubeconfig's TLS and credentials. */
function kubeGet(kc: KubeConfig, timeoutMs = 5000): HttpGet {
  return async (url) => {
    const u = new URL(url)
    const opts: Record<string, unknown> = { method: 'GET', headers: {} }
    await kc.applyToHTTPSOptions(opts as never)
    return new Promise<string>((resolve, reject) => {
      const fail = (message: string, cause?: unknown) =>
        reject(new DashboardError('MESH_ERR_DASHBOARD_FETCH', `GET ${url}: ${message}`, { cause }))
      const req = (u.protocol === 'https:' ? request : httpRequest)(
        u,
        { ...opts, timeout: timeoutMs },
        (res) => {
          let body = ''
          res.setEncoding('utf8')
          res.on('data', (c: string) => {
            body += c
          })
          res.on('end', () => {
            if ((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300) resolve(body)
            else fail(`${res.statusCode} ${body.slice(0, 200).trim()}`)
          })
        },
      )
      req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)))
      req.on('error', (err) => fail(err.message, err))
      req.end()
    })
  }
}

/** Endpoints through the API server of the kubeconfig's (or the given) context. */
export function kubeEndpoints(options: KubeEndpointsOptions = {}): MeshEndpoints {
  let kc: KubeConfig
  try {
    ;({ kc } = loadKubeConfig({
      ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
      ...(options.context ? { context: options.context } : {}),
    }))
  } catch (err) {
    if (!(err instanceof KubeConfigError)) throw err
    throw new DashboardError(
      'MESH_ERR_DASHBOARD_FETCH',
      err.code === 'MESH_ERR_KUBECONFIG_NO_CLUSTER'
        ? 'the kubeconfig has no current cluster: set KUBECONFIG or pass --kubeconfig/--context'
        : `cannot load the kubeconfig: ${err.message}`,
      { cause: err },
    )
  }
  const server = kc.getCurrentCluster()!.server
  const base = server.replace(/\/$/, '')
  const ns = options.namespace ?? 'minimesh-system'
  return {
    describe: `Kubernetes context ${kc.getCurrentContext()} (${base})`,
    get: kubeGet(kc),
    meshd: `${base}${serviceProxyPath(ns, 'meshd', 15014)}`,
    proxyMetrics: (t) => `${base}${podProxyPath(t.namespace, t.pod, PROXY_STATUS_PORT)}/stats/prometheus`,
    ...(options.prometheus ? { prometheus: `${base}${serviceProxyPath(ns, 'prometheus', 9090)}` } : {}),
  }
}
