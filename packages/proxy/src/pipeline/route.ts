// Route stages. Resolution: route configuration → virtual host → first matching route (or the
// filter chain's own cluster), then the weighted destination and its cluster (404 NR, 503 NC).
// Answer or rewrite: a direct response or a redirect is answered here; otherwise the route's and
// the destination's request header operations and the rewrite make the upstream request.
import { applyHeaderOps, setFlat } from '../http/headers.ts'
import { Flag } from '../http/record.ts'
import { findRoute, findVirtualHost, pickWeighted } from '../routing/select.ts'
import type { LocalReply } from './local-reply.ts'
import type { RequestState } from './state.ts'

const NO_ROUTE: LocalReply = { status: 404, body: '', flag: Flag.NoRoute }
const NO_CLUSTER: LocalReply = { status: 503, body: 'no cluster', flag: Flag.NoCluster }

export function resolveRoute(s: RequestState): LocalReply | undefined {
  const snap = s.ctx.store.current
  const conn = s.conn
  const http = conn.chain.http!
  let clusterName = http.cluster
  if (clusterName === undefined) {
    const view = s.view!
    const rc = snap.routes.get(http.routeConfigName!)
    const vh = rc && findVirtualHost(rc, view.authority, conn.originalIp, conn.originalPort)
    const route = vh && findRoute(vh, view)
    if (!route) return NO_ROUTE
    s.route = route
    s.rec.routeName = route.name
    // Answered by the proxy itself (answerOrRewrite): no upstream.
    if (route.raw.directResponse || route.raw.redirect) return undefined
    s.weighted = pickWeighted(route)
    clusterName = s.weighted?.name
  }
  const cluster = clusterName === undefined ? undefined : snap.clusters.get(clusterName)
  if (!cluster) return NO_CLUSTER
  s.cluster = cluster
  s.rec.upstreamCluster = cluster.name
  s.rec.destinationService = cluster.config.service?.host ?? cluster.name
  return undefined
}

function stripPortOf(authority: string): string {
  const i = authority.lastIndexOf(':')
  return i > 0 && !authority.endsWith(']') ? authority.slice(0, i) : authority
}

function portOf(authority: string): string {
  const i = authority.lastIndexOf(':')
  return i > 0 && !authority.endsWith(']') ? authority.slice(i) : ''
}

export function answerOrRewrite(s: RequestState): LocalReply | undefined {
  const route = s.route
  if (!route) return undefined
  const raw = route.raw
  const view = s.view!
  if (raw.directResponse)
    return { status: raw.directResponse.status, body: raw.directResponse.body ?? '', flag: '' }
  if (raw.redirect) {
    const r = raw.redirect
    const host = r.host ?? stripPortOf(view.authority)
    const port = r.port !== undefined ? `:${r.port}` : portOf(view.authority)
    const scheme = r.scheme ?? 'http'
    const path = r.path ?? view.path
    const location = `${scheme}://${host}${port}${path}${view.query ? `?${view.query}` : ''}`
    return { status: r.code, body: '', flag: '', headers: ['location', location], redirect: true }
  }
  applyHeaderOps(s.headers, route.requestHeaders)
  applyHeaderOps(s.headers, s.weighted?.requestHeaders)
  const rewrite = raw.route?.rewrite
  if (rewrite) {
    if (rewrite.uri !== undefined) {
      const rest = route.pathPrefix !== undefined ? view.path.slice(route.pathPrefix.length) : ''
      let next = rewrite.uri + rest
      if (next.startsWith('//')) next = next.slice(1)
      s.path = `${next || '/'}${view.query ? `?${view.query}` : ''}`
    }
    if (rewrite.authority !== undefined) setFlat(s.headers, 'host', rewrite.authority)
  }
  return undefined
}
