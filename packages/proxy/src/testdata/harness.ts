// Test harness: real upstream HTTP servers on port 0, static configurations for a gateway
// listener, and a proxy started in-process on free loopback ports.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Cluster, ClusterLoadAssignment, Listener, Route, RouteConfiguration } from '@minimesh/api'
import pino from 'pino'
import { request } from 'undici'
import type { StaticConfig } from '../config/validate.ts'
import { type ProxyOptions, type RunningProxy, startProxy } from '../proxy.ts'

interface Seen {
  method: string
  url: string
  headers: http.IncomingHttpHeaders
  body: string
}

export interface Upstream {
  port: number
  name: string
  seen: Seen[]
  server: http.Server
  close(): Promise<void>
}

export type UpstreamHandler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void

/** An upstream that answers 200 with JSON {name, method, url, headers, body} unless `handler` says otherwise. */
export async function startUpstream(name: string, handler?: UpstreamHandler): Promise<Upstream> {
  const seen: Seen[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString()
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body })
      if (handler) return handler(req, res, body)
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': name })
      res.end(JSON.stringify({ name, method: req.method, url: req.url, headers: req.headers, body }))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: (server.address() as AddressInfo).port,
    name,
    seen,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}

export function cluster(name: string, extra: Partial<Cluster> = {}): Cluster {
  return { name, type: 'EDS', protocol: 'http', lbPolicy: 'ROUND_ROBIN', connectTimeoutMs: 1000, ...extra }
}

export function endpoints(
  clusterName: string,
  ups: { port: number; labels?: Record<string, string> }[],
): ClusterLoadAssignment {
  return {
    clusterName,
    endpoints: ups.map((u) => ({
      address: '127.0.0.1',
      port: u.port,
      health: 'HEALTHY' as const,
      ...(u.labels ? { labels: u.labels, workload: u.labels.app } : {}),
    })),
  }
}

/** The gateway's HTTP listener on 8080, its routes in the route configuration http.8080. */
export function gatewayListener(routeConfigName = 'http.8080'): Listener {
  return {
    name: '0.0.0.0_8080',
    trafficDirection: 'GATEWAY',
    address: '0.0.0.0',
    port: 8080,
    bindToPort: true,
    filterChains: [{ name: 'http', http: { routeConfigName } }],
  }
}

/** The route configuration http.8080: one virtual host for every domain. */
export function routeConfig(routes: Route[], virtualHost = 'test'): RouteConfiguration {
  return { name: 'http.8080', virtualHosts: [{ name: virtualHost, domains: ['*'], routes }] }
}

/** One gateway listener, one route configuration, the given clusters and endpoints. */
export function gatewayConfig(
  routes: Route[],
  clusters: Cluster[],
  eps: ClusterLoadAssignment[],
): StaticConfig {
  return { listeners: [gatewayListener()], routes: [routeConfig(routes)], clusters, endpoints: eps }
}

const silent = pino({ level: 'silent' })

/** A proxy on free loopback ports (listeners configured on 8080/15001/15006 get port 0). */
export async function startTestProxy(
  config: StaticConfig | undefined,
  opts: ProxyOptions = {},
): Promise<RunningProxy> {
  return startProxy({
    ...(config ? { config } : {}),
    adminPort: 0,
    statsPort: 0,
    healthPort: 0,
    promPort: 0,
    bindAddress: '127.0.0.1',
    portMap: { 8080: 0, 15001: 0, 15006: 0 },
    logger: silent,
    accessLogKeep: 200,
    identity: { workload: 'client', namespace: 'default', labels: { app: 'client', version: 'v1' } },
    ...opts,
  })
}

export interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  json<T = Record<string, unknown>>(): T
}

/** One request to a proxy port; the body is read whole. */
export async function call(
  port: number,
  path = '/',
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  const res = await request(`http://127.0.0.1:${port}${path}`, {
    method: (init.method ?? 'GET') as 'GET',
    headers: { host: 'test.local', ...init.headers },
    body: init.body ?? null,
  })
  const text = await res.body.text()
  return {
    status: res.statusCode,
    headers: res.headers,
    text,
    json: <T>() => JSON.parse(text) as T,
  }
}

export function gatewayPort(proxy: RunningProxy): number {
  const p = proxy.ports.listeners['0.0.0.0_8080']
  if (p === undefined) throw new Error('gateway listener not bound')
  return p
}
