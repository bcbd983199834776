// WebSocket (and other HTTP/1.1 Upgrade) requests: routed like any request, then sent upstream
// with undici's upgrade support; on 101 the two sockets are joined byte for byte. An upstream
// that declines the upgrade gets its response relayed and the connection closed.
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Dispatcher } from 'undici'
import { decodePeer, type ProxyContext } from '../context.ts'
import type { ConnContext } from '../listeners/conn.ts'
import type { RequestView } from '../routing/match.ts'
import { applyHeaderOps, copyRequestHeaders, copyResponseHeaders, newFacts, PEER_HEADER } from './headers.ts'
import { addFlag, Flag, type RequestRecord } from './record.ts'
import { newRecord, resolve } from './request.ts'

function rawResponse(status: number, reason: string, flat: readonly string[], body = ''): string {
  let head = `HTTP/1.1 ${status} ${reason}\r\n`
  for (let i = 0; i < flat.length; i += 2) head += `${flat[i]}: ${flat[i + 1]}\r\n`
  return `${head}\r\n${body}`
}

class UpgradeHandler implements Dispatcher.DispatchHandler {
  private readonly client: Duplex
  private readonly head: Buffer
  private readonly rec: RequestRecord
  private readonly done: () => void
  private readonly release: () => void
  private relaying = false

  constructor(client: Duplex, head: Buffer, rec: RequestRecord, release: () => void, done: () => void) {
    this.client = client
    this.head = head
    this.rec = rec
    this.release = release
    this.done = done
  }

  onRequestStart(): void {}

  onRequestUpgrade(
    controller: Dispatcher.DispatchController,
    status: number,
    _h: unknown,
    upstream: Duplex,
  ): void {
    this.rec.status = status
    const flat = copyResponseHeaders((controller.rawHeaders ?? []) as (Buffer | string)[], true)
    this.client.write(rawResponse(status, 'Switching Protocols', flat))
    if (this.head.length > 0) upstream.write(this.head)
    upstream.pipe(this.client)
    this.client.pipe(upstream)
    const close = () => {
      upstream.destroy()
      this.client.destroy()
    }
    upstream.once('close', close)
    this.client.once('close', close)
    upstream.on('error', close)
    this.client.on('error', close)
    this.client.once('close', () => {
      this.release()
      this.done()
    })
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    status: number,
    _h: unknown,
    reason: string,
  ): void {
    // The upstream declined the upgrade: relay its answer and close.
    this.rec.status = status
    this.relaying = true
    const flat = copyResponseHeaders((controller.rawHeaders ?? []) as (Buffer | string)[])
    flat.push('connection', 'close')
    this.client.write(rawResponse(status, reason || 'Upgrade Declined', flat))
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.rec.bytesSent += chunk.length
    this.client.write(chunk)
  }

  onResponseEnd(): void {
    this.client.end()
    this.release()
    this.done()
  }

  onResponseError(): void {
    if (!this.relaying && this.rec.status === 0) {
      addFlag(this.rec, Flag.UpstreamConnectFailure)
      this.rec.status = 503
      this.client.end(rawResponse(503, 'Service Unavailable', ['content-length', '0', 'connection', 'close']))
    } else this.client.destroy()
    this.release()
    this.done()
  }
}

export function handleUpgrade(
  ctx: ProxyContext,
  conn: ConnContext,
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
): void {
  ctx.inflight++
  const rec = newRecord(conn, req)
  let finished = false
  const done = () => {
    if (finished) return
    finished = true
    ctx.inflight--
    const d = performance.now() - rec.startMs
    ctx.metrics.record(rec, d)
    if (ctx.accessLog.enabled) ctx.accessLog.write(rec, d)
  }
  const facts = newFacts()
  const headers = copyRequestHeaders(req.rawHeaders, facts)
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
  rec.requestId = facts.requestId ?? randomUUID()
  if (facts.requestId === undefined) headers.push('x-request-id', rec.requestId)
  if (conn.direction === 'INBOUND') rec.source = decodePeer(facts.peer)
  else headers.push(PEER_HEADER, ctx.peerHeader)
  const r = resolve(ctx, conn, view, rec)
  if (!('cluster' in r)) {
    rec.status = r.status
    if (r.flag) addFlag(rec, r.flag)
    client.end(
      rawResponse(r.status, 'Upgrade Refused', [
        ...(r.headers ?? []),
        'content-length',
        '0',
        'connection',
        'close',
      ]),
    )
    done()
    return
  }
  applyHeaderOps(headers, r.route?.requestHeaders)
  applyHeaderOps(headers, r.weighted?.requestHeaders)
  const cluster = r.cluster
  rec.destinationService = cluster.config.service?.host ?? cluster.name
  const host = cluster.choose(undefined, { address: conn.originalIp, port: conn.originalPort })
  if (!host || !cluster.breaker.tryAcquire()) {
    rec.status = 503
    addFlag(rec, host ? Flag.UpstreamOverflow : Flag.NoHealthyUpstream)
    client.end(rawResponse(503, 'Service Unavailable', ['content-length', '0', 'connection', 'close']))
    done()
    return
  }
  rec.upstreamHost = host.key
  host.active++
  let released = false
  const release = () => {
    if (released) return
    released = true
    host.active--
    cluster.breaker.release()
  }
  const handler = new UpgradeHandler(client, head, rec, release, done)
  host.dispatch(
    { path: url, method: rec.method, headers, body: null, upgrade: facts.upgrade ?? 'websocket' },
    handler,
  )
}
