// The proxy's own HTTP endpoints (ports in @minimesh/api/ports): admin on 127.0.0.1
// (`/config_dump`, `/listeners`, `/routes`, `/clusters`, `/stats`, `/logging`, `/certs`, POST
// `/quitquitquit`); status (`/stats/prometheus`, the rewritten app probes, POST `/quitquitquit`
// from loopback); readiness (`/healthz/ready`: 200 once a configuration is in, and the first
// workload certificate when a CA is configured, until draining); and the proxy's own Prometheus
// stats (`/stats/prometheus` alone, as Envoy's stats port).
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ProxyContext } from '../context.ts'
import type { RotationStatus } from '../identity/rotation.ts'
import type { CompiledRouteConfig } from '../routing/select.ts'
import { certsView } from './certs.ts'
import { PROMETHEUS_CONTENT_TYPE } from './metrics.ts'

export interface AdminInfo {
  /** Node id and metadata the proxy runs with. */
  node: Record<string, unknown>
  listenerPorts: () => Record<string, number>
  /** The certificate rotation's state, when a CA is configured. */
  rotation?: () => RotationStatus | undefined
  /** POST /quitquitquit: drain and exit (see ProxyOptions.onQuit). */
  quit?: () => void
}

type Handler = (
  req: http.IncomingMessage,
  url: URL,
) => Promise<[number, string, string]> | [number, string, string]

const JSON_TYPE = 'application/json'

function json(value: unknown): [number, string, string] {
  return [200, JSON_TYPE, `${JSON.stringify(value, null, 2)}\n`]
}

function routesView(routes: ReadonlyMap<string, CompiledRouteConfig>) {
  return [...routes.values()].map((rc) => ({
    name: rc.name,
    virtualHosts: rc.raw.virtualHosts.map((vh) => ({
      name: vh.name,
      domains: vh.domains,
      routes: vh.routes.map((r) => ({
        name: r.name ?? null,
        match: r.match,
        ...(r.route ? { route: r.route } : {}),
        ...(r.redirect ? { redirect: r.redirect } : {}),
        ...(r.directResponse ? { directResponse: r.directResponse } : {}),
        ...(r.fault ? { fault: r.fault } : {}),
      })),
    })),
  }))
}

function clustersView(ctx: ProxyContext) {
  const now = Date.now()
  return [...ctx.store.current.clusters.values()].map((c) => ({
    name: c.name,
    type: c.config.type,
    lbPolicy: c.config.lbPolicy,
    service: c.config.service ?? null,
    circuitBreakers: c.config.circuitBreakers ?? null,
    outlierDetection: c.config.outlierDetection ?? null,
    /** TLS origination: DISABLE (plaintext), SIMPLE or MUTUAL; the rest is in /config_dump. */
    tls: c.config.tls?.mode ?? 'DISABLE',
    active: c.breaker.active,
    pending: c.breaker.pending,
    stats: c.stats,
    hosts: c.hosts.map((h) => ({
      address: h.address,
      port: h.port,
      health: h.endpoint.health,
      ejected: h.ejected,
      ejectionCount: h.ejectionCount,
      ejectedForMs: h.ejected ? Math.max(0, h.ejectedUntil - now) : 0,
      active: h.active,
      requests: h.requests,
      errors: h.errors,
      labels: h.endpoint.labels ?? {},
      workload: h.endpoint.workload ?? null,
      /** Mesh mTLS to this endpoint now: 'mutual_tls' or 'none'. */
      mtls: h.transport,
    })),
  }))
}

function statsText(ctx: ProxyContext): string {
  const lines: string[] = []
  for (const [name, s] of [...ctx.store.clusterStats].sort(([a], [b]) => a.localeCompare(b))) {
    for (const [k, v] of Object.entries(s)) lines.push(`cluster.${name}.${k}: ${v}`)
  }
  lines.push(`server.inflight_requests: ${ctx.inflight}`)
  lines.push(`server.draining: ${ctx.draining ? 1 : 0}`)
  lines.push(`server.config_serial: ${ctx.store.current.serial}`)
  return `${lines.join('\n')}\n`
}

export function adminHandlers(ctx: ProxyContext, info: AdminInfo): Record<string, Handler> {
  return {
    '/': () => [
      200,
      'text/plain',
      `${['/config_dump', '/listeners', '/routes', '/clusters', '/certs', '/stats', '/logging', '/ready'].join('\n')}\n`,
    ],
    '/config_dump': () => json({ node: info.node, ...ctx.store.dump() }),
    '/listeners': () =>
      json(
        [...ctx.store.current.listeners.values()].map((l) => ({
          ...l,
          boundPort: info.listenerPorts()[l.name] ?? null,
        })),
      ),
    '/routes': () => json(routesView(ctx.store.current.routes)),
    '/clusters': () => json(clustersView(ctx)),
    '/certs': () => json(certsView(ctx.certs, info.rotation?.())),
    '/stats': (_req, url) =>
      url.searchParams.get('format') === 'json'
        ? json(Object.fromEntries(ctx.store.clusterStats))
        : [200, 'text/plain', statsText(ctx)],
    '/logging': (req, url) => {
      const level = url.searchParams.get('level')
      if (level) {
        if (req.method !== 'POST') return [405, 'text/plain', 'use POST to change the level\n']
        if (!Object.hasOwn(ctx.log.levels.values, level))
          return [400, 'text/plain', `unknown level ${level}\n`]
        ctx.log.level = level
      }
      return json({ level: ctx.log.level })
    },
    '/ready': () => ready(ctx),
    '/healthz/ready': () => ready(ctx),
    ...(info.quit ? { '/quitquitquit': quitHandler(info.quit) } : {}),
  }
}

/**
 * POST /quitquitquit: answers 200, then the proxy drains and exits. Only from the pod itself
 * (loopback): on the status port, which listens on the pod's address, another pod must not stop this proxy.
 */
function quitHandler(quit: () => void): Handler {
  return (req) => {
    if (req.method !== 'POST') return [405, 'text/plain', 'use POST\n']
    const from = req.socket.remoteAddress ?? ''
    if (!(from === '::1' || from.startsWith('127.') || from.startsWith('::ffff:127.')))
      return [403, 'text/plain', 'only from the pod itself (127.0.0.1)\n']
    setImmediate(quit)
    return [200, 'text/plain', 'OK\n']
  }
}

function ready(ctx: ProxyContext): [number, string, string] {
  if (ctx.draining) return [503, 'text/plain', 'draining\n']
  if (!ctx.store.ready) return [503, 'text/plain', 'waiting for configuration\n']
  if (ctx.certificateRequired && !ctx.certs.current)
    return [503, 'text/plain', 'waiting for the workload certificate\n']
  return [200, 'text/plain', 'ready\n']
}

/** Starts a small HTTP server for a route table; resolves with its port. */
export function serve(
  handlers: Record<string, Handler>,
  host: string,
  port: number,
): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin')
    const h = handlers[url.pathname]
    if (!h) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
      return
    }
    Promise.resolve()
      .then(() => h(req, url))
      .then(
        ([status, type, body]) => res.writeHead(status, { 'content-type': type }).end(body),
        (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
      )
  })
  server.keepAliveTimeout = 5_000
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.removeListener('error', reject)
      resolve({ server, port: (server.address() as AddressInfo).port })
    })
  })
}

export function metricsHandlers(ctx: ProxyContext, quit?: () => void): Record<string, Handler> {
  return {
    '/stats/prometheus': async () => [200, PROMETHEUS_CONTENT_TYPE, await ctx.metrics.text()],
    '/healthz/ready': () => ready(ctx),
    ...(quit ? { '/quitquitquit': quitHandler(quit) } : {}),
  }
}

/**
 * The proxy's own Prometheus port: its metrics and nothing else (as Envoy's /stats/prometheus).
 * The status port serves them too, as the scraped endpoint (where Istio merges in the app's own
 * metrics; minimesh has none to merge), beside the app probes.
 */
export function prometheusHandlers(ctx: ProxyContext): Record<string, Handler> {
  return { '/stats/prometheus': async () => [200, PROMETHEUS_CONTENT_TYPE, await ctx.metrics.text()] }
}

export function healthHandlers(ctx: ProxyContext): Record<string, Handler> {
  return { '/healthz/ready': () => ready(ctx) }
}
