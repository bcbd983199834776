// The Upgrade dispatch stage (WebSocket and other HTTP/1.1 upgrades): after the same stages as
// any request, the upgrade is sent upstream with undici's upgrade support on a lease of the
// cluster's pool; on 101 the two sockets are joined byte for byte until either side closes. An
// upstream that declines the upgrade gets its response relayed and the connection closed.
import type { Duplex } from 'node:stream'
import type { Dispatcher } from 'undici'
import type { PendingTicket } from '../cluster/circuit-breaker.ts'
import { Lease, type LeaseWaiter, OVERFLOW_REASON } from '../cluster/lease.ts'
import type { Outcome } from '../cluster/outlier.ts'
import { type LocalReply, sendLocalReply } from '../pipeline/local-reply.ts'
import type { RequestState } from '../pipeline/state.ts'
import { copyResponseHeaders } from './headers.ts'
import { Flag } from './record.ts'

function rawHead(status: number, reason: string, flat: readonly string[]): string {
  let head = `HTTP/1.1 ${status} ${reason}\r\n`
  for (let i = 0; i < flat.length; i += 2) head += `${flat[i]}: ${flat[i + 1]}\r\n`
  return `${head}\r\n`
}

class Tunnel implements Dispatcher.DispatchHandler, LeaseWaiter {
  private readonly s: RequestState
  private readonly client: Duplex
  private lease: Lease | undefined
  private ticket: PendingTicket | undefined
  /** The upstream declined the upgrade; its answer is being relayed. */
  private relaying = false

  constructor(s: RequestState) {
    this.s = s
    this.client = s.tunnel!.socket
  }

  open(): LocalReply | undefined {
    const s = this.s
    const cluster = s.cluster!
    const host = cluster.choose(s.hash, s.conn.original)
    if (!host) return { status: 503, body: 'no healthy upstream', flag: Flag.NoHealthyUpstream }
    const lease = Lease.acquire(cluster, host, this)
    if (lease instanceof Lease) this.granted(lease)
    else if (lease) {
      this.ticket = lease
      this.client.once('close', () => this.ticket?.cancel())
    } else return { status: 503, body: OVERFLOW_REASON, flag: Flag.UpstreamOverflow }
    return undefined
  }

  granted(lease: Lease): void {
    this.ticket = undefined
    if (this.client.destroyed) {
      lease.release()
      return
    }
    this.lease = lease
    const s = this.s
    s.rec.attempts = 1
    s.rec.upstreamHost = lease.host.key
    lease.cluster.stats.upstream_rq_total++
    const upgrade = s.facts.upgrade ?? 'websocket'
    lease.host.dispatch({ path: s.path, method: s.rec.method, headers: s.headers, body: null, upgrade }, this)
  }

  onRequestStart(): void {}

  onRequestUpgrade(
    controller: Dispatcher.DispatchController,
    status: number,
    _h: unknown,
    upstream: Duplex,
  ): void {
    this.s.rec.status = status
    const flat = copyResponseHeaders((controller.rawHeaders ?? []) as (Buffer | string)[], true)
    const client = this.client
    client.write(rawHead(status, 'Switching Protocols', flat))
    const head = this.s.tunnel!.head
    if (head.length > 0) upstream.write(head)
    upstream.pipe(client)
    client.pipe(upstream)
    const close = () => {
      upstream.destroy()
      client.destroy()
    }
    upstream.once('close', close)
    client.once('close', close)
    upstream.on('error', close)
    client.on('error', close)
    client.once('close', () => this.end(status))
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    status: number,
    _h: unknown,
    reason: string,
  ): void {
    this.s.rec.status = status
    this.relaying = true
    const flat = copyResponseHeaders((controller.rawHeaders ?? []) as (Buffer | string)[])
    flat.push('connection', 'close')
    this.client.write(rawHead(status, reason || 'Upgrade Declined', flat))
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.s.rec.bytesSent += chunk.length
    this.client.write(chunk)
  }

  onResponseEnd(): void {
    this.client.end()
    this.end(this.s.rec.status)
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    if (!this.relaying && this.s.rec.status === 0) {
      sendLocalReply(this.s, {
        status: 503,
        body: `upstream connect error or disconnect/reset before headers. reset reason: ${err.message}`,
        flag: Flag.UpstreamConnectFailure,
      })
    } else this.client.destroy()
    this.end('local-failure')
  }

  private end(outcome: Outcome): void {
    this.lease?.release(outcome)
    this.s.finish()
  }
}

/** Dispatch stage of an Upgrade request. */
export function openTunnel(s: RequestState): LocalReply | undefined {
  return new Tunnel(s).open()
}
