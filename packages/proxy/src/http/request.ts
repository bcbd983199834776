// One HTTP request through the proxy: route it (route configuration → virtual host → first
// matching route, or the chain's cluster), run inbound policy, apply faults, answer redirects and
// direct responses, build the upstream request (headers, rewrite, body) and hand it to an
// Exchange; when the response is done, record metrics and the access log. HTTP/1.x requests
// (node:http) and HTTP/2 ones (node:http2's compatibility API) take the same path.
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { Http2ServerRequest } from 'node:http2'
import { PassThrough, type Readable } from 'node:stream'
import type { Cluster } from '@minimesh/api'
import type { ClusterRuntime } from '../cluster/cluster.ts'
import { fnv1a } from '../cluster/lb.ts'
import { decodePeer, type ProxyContext } from '../context.ts'
import type { ConnContext } from '../listeners/conn.ts'
import type { InboundRequestInfo } from '../policy.ts'
import type { RequestView } from '../routing/match.ts'
import {
  type CompiledRoute,
  type CompiledWeighted,
  findRoute,
  findVirtualHost,
  pickWeighted,
} from '../routing/select.ts'
import type { DownstreamRequest, DownstreamResponse } from './downstream.ts'
import { decideFault } from './fault.ts'
import { Exchange, isGone, localReply } from './forward.ts'
import { isGrpcContentType } from './grpc.ts'
import { applyHeaderOps, copyRequestHeaders, newFacts, PEER_HEADER, setFlat } from './headers.ts'
import { mirror } from './mirror.ts'
import { addFlag, Flag, type RequestRecord } from './record.ts'

/** Largest body kept in memory so a request can be retried or mirrored. */
const MAX_BUFFERED_BODY = 64 * 1024

/** Where a routed request goes; produced by `resolve` for both plain requests and upgrades. */
export interface Resolved {
  route: CompiledRoute | undefined
  weighted: CompiledWeighted | undefined
  cluster: ClusterRuntime
}

export function newRecord(
  conn: ConnContext,
  req: Pick<IncomingMessage, 'method' | 'url' | 'httpVersion'>,
): RequestRecord {
  return {
    startMs: performance.now(),
    startTime: Date.now(),
    direction: conn.direction,
    method: req.method ?? 'GET',
    path: req.url ?? '/',
    authority: '',
    protocol: req.httpVersion === '2.0' ? 'HTTP/2' : `HTTP/${req.httpVersion}`,
    status: 0,
    flags: '',
    bytesReceived: 0,
    bytesSent: 0,
    requestId: '',
    userAgent: undefined,
    forwardedFor: undefined,
    downstreamRemote: conn.remoteAddress,
    routeName: undefined,
    upstreamCluster: undefined,
    upstreamHost: undefined,
    upstreamServiceTimeMs: undefined,
    attempts: 0,
    grpc: false,
    source: undefined,
    destinationService: undefined,
    destinationWorkload: undefined,
    destinationVersion: undefined,
  }
}

/** Finds route and cluster, or answers the request locally (404 NR, 503 NC, redirect, direct response). */
export function resolve(
  ctx: ProxyContext,
  conn: ConnContext,
  view: RequestView,
  rec: RequestRecord,
): Resolved | { status: number; body: string; flag: string; headers?: string[] } {
  const snap = ctx.store.current
  const http = conn.chain.http!
  let route: CompiledRoute | undefined
  let clusterName = http.cluster
  let weighted: CompiledWeighted | undefined
  if (clusterName === undefined) {
    const rc = snap.routes.get(http.routeConfigName!)
    const vh = rc && findVirtualHost(rc, view.authority, conn.originalIp, conn.originalPort)
    route = vh && findRoute(vh, view)
    if (!route) return { status: 404, body: '', flag: Flag.NoRoute }
    rec.routeName = route.name
    const raw = route.raw
    if (raw.directResponse)
      return { status: raw.directResponse.status, body: raw.directResponse.body ?? '', flag: '' }
    if (raw.redirect) {
      const r = raw.redirect
      const host = r.host ?? stripPortOf(view.authority)
      const port = r.port !== undefined ? `:${r.port}` : portOf(view.authority)
      const scheme = r.scheme ?? 'http'
      const path = r.path ?? view.path
      const location = `${scheme}://${host}${port}${path}${view.query ? `?${view.query}` : ''}`
      return { status: r.code, body: '', flag: '', headers: ['location', location] }
    }
    weighted = pickWeighted(route)
    clusterName = weighted?.name
  }
  const cluster = clusterName === undefined ? undefined : snap.clusters.get(clusterName)
  if (!cluster) return { status: 503, body: 'no cluster', flag: Flag.NoCluster }
  rec.upstreamCluster = cluster.name
  return { route, weighted, cluster }
}

function stripPortOf(authority: string): string {
  const i = authority.lastIndexOf(':')
  return i > 0 && !authority.endsWith(']') ? authority.slice(0, i) : authority
}

function portOf(authority: string): string {
  const i = authority.lastIndexOf(':')
  return i > 0 && !authority.endsWith(']') ? authority.slice(i) : ''
}

/** The request's consistent-hash key for RING_HASH clusters; may set a cookie on the response. */
function hashKey(
  cfg: Cluster,
  view: RequestView,
  conn: ConnContext,
  setCookie: (c: string) => void,
): number | undefined {
  const hp = cfg.hashPolicy
  if (!hp || cfg.lbPolicy !== 'RING_HASH') return undefined
  if (hp.header !== undefined) {
    const v = view.headers[hp.header.toLowerCase()]
    return v === undefined ? undefined : fnv1a(Array.isArray(v) ? v.join(',') : v)
  }
  if (hp.sourceIp) return fnv1a(conn.remoteAddress)
  if (hp.queryParameter !== undefined) {
    view.params ??= new URLSearchParams(view.query)
    const v = view.params.get(hp.queryParameter)
    return v === null ? undefined : fnv1a(v)
  }
  if (hp.cookie) {
    const cookies = view.headers.cookie
    const text = Array.isArray(cookies) ? cookies.join('; ') : (cookies ?? '')
    const prefix = `${hp.cookie.name}=`
    for (const part of text.split(';')) {
      const p = part.trim()
      if (p.startsWith(prefix)) return fnv1a(p.slice(prefix.length))
    }
    if (hp.cookie.ttlMs === undefined) return undefined
    // Envoy makes the cookie when it is absent and a ttl is set, so the next request sticks.
    const value = randomUUID().replaceAll('-', '')
    const attrs = [`${hp.cookie.name}=${value}`, `Path=${hp.cookie.path ?? '/'}`, 'HttpOnly']
    if (hp.cookie.ttlMs > 0) attrs.push(`Max-Age=${Math.floor(hp.cookie.ttlMs / 1000)}`)
    setCookie(attrs.join('; '))
    return fnv1a(value)
  }
  return undefined
}

function readBody(req: DownstreamRequest): Promise<Buffer> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.once('end', () => resolveBody(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)))
    req.once('error', reject)
  })
}

/**
 * A body of unknown length (HTTP/1 chunked; HTTP/2 without content-length, as every gRPC call)
 * streamed upstream while a copy of up to `limit` bytes is kept: once the body has ended within
 * the limit, `replay` gives it whole, so the request can be retried.
 */
function replayable(
  req: DownstreamRequest,
  limit: number,
  rec: RequestRecord,
): { body: Readable; replay: () => Buffer | undefined } {
  const chunks: Buffer[] = []
  let size = 0
  let ended = false
  req.on('data', (c: Buffer) => {
    size += c.length
    if (size <= limit) chunks.push(c)
    else chunks.length = 0
  })
  req.once('end', () => {
    ended = true
    rec.bytesReceived = size
  })
  const body = new PassThrough()
  req.pipe(body)
  return { body, replay: () => (ended && size <= limit ? Buffer.concat(chunks) : undefined) }
}

function finalize(ctx: ProxyContext, rec: RequestRecord): void {
  ctx.inflight--
  const duration = performance.now() - rec.startMs
  ctx.metrics.record(rec, duration)
  if (ctx.accessLog.enabled) ctx.accessLog.write(rec, duration)
}

/** Handles one request on an HTTP filter chain. */
export function handleRequest(
  ctx: ProxyContext,
  conn: ConnContext,
  req: DownstreamRequest,
  res: DownstreamResponse,
): void {
  ctx.inflight++
  const rec = newRecord(conn, req)
  // 'close' comes once per response: on() spares once()'s wrapper on the hot path.
  res.on('close', () => finalize(ctx, rec))
  if (ctx.draining && 'shouldKeepAlive' in res) res.shouldKeepAlive = false
  const facts = newFacts()
  const headers = copyRequestHeaders(req.rawHeaders, facts)
  rec.grpc = isGrpcContentType(req.headers['content-type'])
  // HTTP/2 has no chunked coding: a body without content-length is there unless the request's
  // HEADERS frame ended the stream.
  if (req instanceof Http2ServerRequest && facts.contentLength === undefined && !req.stream.endAfterHeaders)
    facts.chunked = true
  const url = req.url ?? '/'
  const q = url.indexOf('?')
  const view: RequestView = {
    method: rec.method,
    path: q < 0 ? url : url.slice(0, q),
    query: q < 0 ? '' : url.slice(q + 1),
    authority: facts.host ?? '',
    headers: req.headers,
    port: conn.originalPort,
  }
  rec.authority = view.authority
  rec.userAgent = facts.userAgent
  if (facts.requestId === undefined) {
    facts.requestId = randomUUID()
    headers.push('x-request-id', facts.requestId)
  }
  rec.requestId = facts.requestId
  if (conn.direction !== 'OUTBOUND') {
    const xff =
      facts.forwardedFor === undefined ? conn.remoteAddress : `${facts.forwardedFor}, ${conn.remoteAddress}`
    headers.push('x-forwarded-for', xff)
    rec.forwardedFor = xff
  } else if (facts.forwardedFor !== undefined) {
    headers.push('x-forwarded-for', facts.forwardedFor)
    rec.forwardedFor = facts.forwardedFor
  }
  if (facts.forwardedProto === undefined) headers.push('x-forwarded-proto', 'http')
  const id = ctx.identity
  if (conn.direction === 'INBOUND') {
    rec.source = decodePeer(facts.peer)
    rec.destinationWorkload = id.workload
    rec.destinationVersion = id.labels.version
  } else {
    rec.source = { workload: id.workload, namespace: id.namespace, labels: id.labels }
    headers.push(PEER_HEADER, ctx.peerHeader)
  }
  const r = resolve(ctx, conn, view, rec)
  if (!('cluster' in r)) {
    if (r.headers) {
      rec.status = r.status
      if (r.flag) addFlag(rec, r.flag)
      res.writeHead(r.status, [...r.headers, 'content-length', '0'])
      res.end()
    } else localReply(res, rec, r.status, r.body, r.flag)
    return
  }
  rec.destinationService = r.cluster.config.service?.host ?? r.cluster.name
  if (conn.direction === 'INBOUND' && (ctx.inboundPolicy || conn.chain.quotas)) {
    const info = inboundInfo(ctx, conn, req, headers, rec)
    const decision = ctx.inboundPolicy ? ctx.inboundPolicy.check(info) : { allow: true as const }
    if (decision instanceof Promise) {
      decision.then(
        (d) =>
          d.allow
            ? afterPolicy(ctx, conn, req, res, rec, view, headers, facts.contentLength, facts.chunked, r)
            : deny(res, rec, d),
        (err) => {
          ctx.log.error({ err }, 'inbound policy failed')
          localReply(res, rec, 500, 'policy check failed')
        },
      )
      return
    }
    if (!decision.allow) {
      deny(res, rec, decision)
      return
    }
  }
  afterPolicy(ctx, conn, req, res, rec, view, headers, facts.contentLength, facts.chunked, r)
}

function deny(
  res: DownstreamResponse,
  rec: RequestRecord,
  d: { status: number; body: string; flag: string; headers?: Record<string, string> },
): void {
  if (d.headers && !res.headersSent) for (const [k, v] of Object.entries(d.headers)) res.setHeader(k, v)
  localReply(res, rec, d.status, d.body, d.flag)
}

function inboundInfo(
  ctx: ProxyContext,
  conn: ConnContext,
  req: DownstreamRequest,
  headers: string[],
  rec: RequestRecord,
): InboundRequestInfo {
  const h: Record<string, string> = {}
  for (let i = 0; i < headers.length; i += 2) h[headers[i]!] = headers[i + 1]!
  const id = ctx.identity
  return {
    method: rec.method,
    path: req.url ?? '/',
    host: rec.authority,
    headers: h,
    requestId: rec.requestId,
    source: rec.source,
    sourceAddress: conn.remoteAddress,
    destination: {
      port: conn.originalPort,
      workload: id.workload,
      namespace: id.namespace,
      serviceAccount: id.serviceAccount,
      labels: id.labels,
    },
    quotas: conn.chain.quotas ?? [],
  }
}

function afterPolicy(
  ctx: ProxyContext,
  conn: ConnContext,
  req: DownstreamRequest,
  res: DownstreamResponse,
  rec: RequestRecord,
  view: RequestView,
  headers: string[],
  contentLength: string | undefined,
  chunked: boolean,
  r: Resolved,
): void {
  const route = r.route
  const fault = decideFault(route?.raw.fault)
  if (fault.delayMs > 0) {
    addFlag(rec, Flag.DelayInjected)
    const t = setTimeout(() => {
      if (isGone(res)) return
      if (fault.abortStatus) localReply(res, rec, fault.abortStatus, 'fault filter abort', Flag.FaultInjected)
      else proceed(ctx, conn, req, res, rec, view, headers, contentLength, chunked, r)
    }, fault.delayMs)
    res.once('close', () => clearTimeout(t))
    return
  }
  if (fault.abortStatus) {
    localReply(res, rec, fault.abortStatus, 'fault filter abort', Flag.FaultInjected)
    return
  }
  proceed(ctx, conn, req, res, rec, view, headers, contentLength, chunked, r)
}

function proceed(
  ctx: ProxyContext,
  conn: ConnContext,
  req: DownstreamRequest,
  res: DownstreamResponse,
  rec: RequestRecord,
  view: RequestView,
  headers: string[],
  contentLength: string | undefined,
  chunked: boolean,
  r: Resolved,
): void {
  const { route, weighted, cluster } = r
  const action = route?.raw.route
  applyHeaderOps(headers, route?.requestHeaders)
  applyHeaderOps(headers, weighted?.requestHeaders)
  let path = req.url ?? '/'
  if (action?.rewrite) {
    if (action.rewrite.uri !== undefined) {
      const rest = route!.pathPrefix !== undefined ? view.path.slice(route!.pathPrefix.length) : ''
      let next = action.rewrite.uri + rest
      if (next.startsWith('//')) next = next.slice(1)
      path = `${next || '/'}${view.query ? `?${view.query}` : ''}`
    }
    if (action.rewrite.authority !== undefined) setFlat(headers, 'host', action.rewrite.authority)
  }
  let setCookie: string | undefined
  const hash =
    cluster.config.lbPolicy === 'RING_HASH'
      ? hashKey(cluster.config, view, conn, (c) => {
          setCookie = c
        })
      : undefined
  const respOps = route?.responseHeaders
  const wOps = weighted?.responseHeaders
  const edit =
    respOps || wOps || setCookie
      ? (flat: string[]) => {
          applyHeaderOps(flat, respOps)
          applyHeaderOps(flat, wOps)
          if (setCookie) flat.push('set-cookie', setCookie)
        }
      : undefined
  const len = contentLength === undefined ? 0 : Number(contentLength)
  const hasBody = chunked || len > 0
  const wantsCopy = route?.retry !== undefined || action?.mirror !== undefined
  const spec = {
    cluster,
    method: rec.method,
    path,
    headers,
    body: null as Buffer | Readable | null,
    replay: undefined as (() => Buffer | undefined) | undefined,
    retry: route?.retry,
    timeoutMs: action?.timeoutMs ?? 0,
    hash,
    original: { address: conn.originalIp, port: conn.originalPort },
    editResponseHeaders: edit,
    recordHost: conn.direction === 'INBOUND' ? undefined : rec,
  }
  const go = () => {
    if (action?.mirror && Math.random() * 100 < action.mirror.percent) {
      const mc = ctx.store.current.clusters.get(action.mirror.cluster)
      if (mc && (spec.body === null || Buffer.isBuffer(spec.body)))
        mirror(mc, spec.method, path, headers, spec.body)
    }
    new Exchange(spec, res, rec, () => undefined).start()
  }
  if (!hasBody) {
    go()
    return
  }
  if (wantsCopy && !chunked && len <= MAX_BUFFERED_BODY) {
    readBody(req).then(
      (body) => {
        rec.bytesReceived = body.length
        spec.body = body
        go()
      },
      () => res.destroy(),
    )
    return
  }
  if (chunked && spec.retry) {
    const copy = replayable(req, MAX_BUFFERED_BODY, rec)
    spec.body = copy.body
    spec.replay = copy.replay
    go()
    return
  }
  // Streamed body of a known length over the copy limit (or no retries): one try only.
  spec.retry = undefined
  spec.body = req
  rec.bytesReceived = len
  go()
}
