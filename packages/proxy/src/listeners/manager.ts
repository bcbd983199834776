// Binds a socket for every listener with bindToPort (following configuration changes: new
// listeners are bound, removed ones stop accepting while their connections finish) and hands
// each accepted connection to the right dispatcher: capture listeners (virtualOutbound,
// virtualInbound) by original destination, the others by their own port. HTTP/1 connections go
// to one shared HTTP/1 server (http/h1-server.ts), h2c ones to one shared node:http2 server; the connection's
// facts ride on the socket (an HTTP/2 request finds them on its session's socket).
import http2 from 'node:http2'
import net from 'node:net'
import type { Listener } from '@minimesh/api'
import type { ProxyContext } from '../context.ts'
import { ProxyError } from '../errors.ts'
import { H1Server } from '../http/h1-server.ts'
import { handleHttpRequest, handleUpgradeRequest } from '../pipeline/ends.ts'
import { newRecord } from '../pipeline/state.ts'
import {
  type ConnContext,
  type Destination,
  getConn,
  type OriginalDestinationFn,
  plainAddress,
  setConn,
} from './conn.ts'
import { type Dispatch, handleConnection, type ListenerSide, SNIFF_TIMEOUT_MS } from './handler.ts'
import { acceptInbound } from './inbound-tls.ts'
import { sniff } from './sniff.ts'
import { proxyTcp } from './tcp.ts'

export interface ListenerOptions {
  /** Address to bind instead of the listener's own (tests: 127.0.0.1). */
  bindAddress: string | undefined
  /** Configured port → port to bind (0 = any free port). */
  portMap: Readonly<Record<number, number>>
  originalDestination: OriginalDestinationFn
  /** Largest request head accepted (bytes); larger gets 400. */
  maxHeaderSize: number
}

interface Bound {
  server: net.Server
  port: number
  address: string
  /** The listener definition it was bound for (address/port changes rebind). */
  key: string
}

/** An HTTP/1 connection waiting this long for a request head is closed. */
const H1_KEEPALIVE_TIMEOUT_MS = 60_000
/** An HTTP/2 connection with no open stream this long is closed (GOAWAY), like HTTP/1's keep-alive timeout. */
const H2_IDLE_TIMEOUT_MS = 60_000

/**
 * Closes a session once it has had no open stream for `ms` (a stream in progress, however quiet,
 * keeps it: a gRPC stream may wait long for its next message).
 */
export function closeWhenIdle(session: http2.ServerHttp2Session, ms: number): void {
  let open = 0
  let timer: NodeJS.Timeout | undefined
  const arm = () => {
    timer = setTimeout(() => session.close(), ms)
    timer.unref()
  }
  session.on('stream', (stream) => {
    open++
    if (timer) clearTimeout(timer)
    timer = undefined
    stream.once('close', () => {
      if (--open === 0 && !session.closed && !session.destroyed) arm()
    })
  })
  session.once('close', () => {
    if (timer) clearTimeout(timer)
  })
  arm()
}

const CAPTURE_OUTBOUND = 'virtualOutbound'
const CAPTURE_INBOUND = 'virtualInbound'

export class ListenerManager {
  private readonly ctx: ProxyContext
  private readonly opts: ListenerOptions
  readonly h1: H1Server<ConnContext>
  readonly h2Server: http2.Http2Server
  private readonly sessions = new Set<http2.ServerHttp2Session>()
  private readonly bound = new Map<string, Bound>()
  private readonly dispatch: Dispatch
  private syncing: Promise<void> = Promise.resolve()
  /** Every accepted downstream socket (force-closed at the drain deadline). */
  private readonly sockets = new Set<net.Socket>()
  /** The app's connections to the outbound capture listener (a draining sidecar waits for them). */
  private readonly outboundSockets = new Set<net.Socket>()
  private closed = false

  constructor(ctx: ProxyContext, opts: ListenerOptions) {
    this.ctx = ctx
    this.opts = opts
    this.h1 = new H1Server<ConnContext>(
      { maxHeaderSize: opts.maxHeaderSize, keepAliveTimeoutMs: H1_KEEPALIVE_TIMEOUT_MS },
      {
        request: (conn, req, res) => handleHttpRequest(ctx, conn, req, res),
        upgrade: (conn, req, socket, head) => handleUpgradeRequest(ctx, conn, req, socket, head),
        badRequest: (conn, err) => {
          // Malformed requests, oversized heads, smuggling (Content-Length with Transfer-Encoding):
          // answered 400 by the server, never forwarded.
          if (ctx.accessLog.enabled) {
            const rec = newRecord(conn, { method: '-', url: '-', httpVersion: '1.1' })
            rec.status = 400
            rec.flags = 'DPE'
            ctx.accessLog.write(rec, 0)
          }
          ctx.log.debug({ reason: err.message }, 'bad request from downstream')
        },
      },
    )
    this.h2Server = http2.createServer({ settings: { maxHeaderListSize: opts.maxHeaderSize } })
    this.h2Server.on('request', (req, res) => {
      const conn = getConn(req.socket as net.Socket)
      if (conn) handleHttpRequest(ctx, conn, req, res)
      else res.stream.close(http2.constants.NGHTTP2_REFUSED_STREAM)
    })
    this.h2Server.on('session', (session) => {
      this.sessions.add(session)
      closeWhenIdle(session, H2_IDLE_TIMEOUT_MS)
      session.once('close', () => this.sessions.delete(session))
      if (this.ctx.draining) session.close()
    })
    // A broken HTTP/2 session (bad frames, a client that vanished) only ends that session.
    this.h2Server.on('sessionError', (err) => ctx.log.debug({ err }, 'http2 session error'))
    this.dispatch = {
      http: (socket, conn, kind) => {
        setConn(socket, conn)
        if (kind === 'http2') {
          // The session takes the sniffed bytes from the socket's buffer and reads the handle
          // itself: resuming the socket here would hand later bytes to JS instead.
          this.h2Server.emit('connection', socket)
          return
        }
        this.h1.serve(socket, conn)
      },
      tcp: (socket, conn, cluster) => proxyTcp(ctx, socket, conn, cluster),
      sniffThen: (socket, timeoutMs, onHttp, onTcp) =>
        sniff(socket, timeoutMs, (kind, timedOut) => (kind === 'tcp' ? onTcp(timedOut) : onHttp(kind))),
      inboundTls: (socket, mode, cb) =>
        acceptInbound(ctx, socket, mode, SNIFF_TIMEOUT_MS, (v) => {
          // The TLS socket is a downstream connection of its own (closed at the drain deadline).
          if (v.kind === 'mtls') this.track(v.socket)
          cb(v)
        }),
    }
  }

  /** Ports actually bound, by listener name. */
  get ports(): Record<string, number> {
    const out: Record<string, number> = {}
    for (const [name, b] of this.bound) out[name] = b.port
    return out
  }

  /** Binds and unbinds to match the current snapshot; resolves when done (errors are logged). */
  sync(): Promise<void> {
    this.syncing = this.syncing.then(() => this.doSync())
    return this.syncing
  }

  private async doSync(): Promise<void> {
    if (this.closed) return
    const want = new Map<string, Listener>()
    for (const l of this.ctx.store.current.listeners.values()) if (l.bindToPort) want.set(l.name, l)
    for (const [name, b] of this.bound) {
      const l = want.get(name)
      if (!l || this.keyOf(l) !== b.key) {
        this.bound.delete(name)
        b.server.close()
      }
    }
    for (const [name, l] of want) {
      if (this.bound.has(name)) continue
      try {
        this.bound.set(name, await this.bind(l))
      } catch (err) {
        this.ctx.log.error({ err, listener: name }, 'cannot bind listener')
      }
    }
  }

  private keyOf(l: Listener): string {
    return `${this.opts.bindAddress ?? l.address}:${this.opts.portMap[l.port] ?? l.port}`
  }

  private bind(l: Listener): Promise<Bound> {
    const address = this.opts.bindAddress ?? l.address
    const port = this.opts.portMap[l.port] ?? l.port
    const name = l.name
    const server = net.createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true }, (socket) =>
      this.onConnection(name, socket),
    )
    return new Promise((resolve, reject) => {
      server.once('error', (cause) =>
        reject(
          new ProxyError('MESH_ERR_PROXY_LISTEN', `listener ${name}: cannot listen on ${address}:${port}`, {
            cause,
          }),
        ),
      )
      server.listen({ host: address, port, backlog: 1024 }, () => {
        server.removeAllListeners('error')
        server.on('error', (err) => this.ctx.log.error({ err, listener: name }, 'listener error'))
        resolve({
          server,
          port: (server.address() as net.AddressInfo).port,
          address,
          key: `${address}:${port}`,
        })
      })
    })
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket)
    socket.once('close', () => this.sockets.delete(socket))
  }

  private onConnection(name: string, socket: net.Socket): void {
    socket.on('error', () => socket.destroy())
    this.track(socket)
    const listener = this.ctx.store.current.listeners.get(name)
    const appOutbound = name === CAPTURE_OUTBOUND
    const acceptWhileDraining = appOutbound
      ? this.ctx.acceptOutboundWhileDraining
      : this.ctx.acceptInboundWhileDraining
    if (!listener || (this.ctx.draining && !acceptWhileDraining)) {
      socket.destroy()
      return
    }
    if (appOutbound) {
      this.outboundSockets.add(socket)
      socket.once('close', () => this.outboundSockets.delete(socket))
    }
    const local: Destination = { address: plainAddress(socket.localAddress), port: socket.localPort ?? 0 }
    const capture = name === CAPTURE_OUTBOUND || name === CAPTURE_INBOUND
    let dst: Destination
    if (capture) {
      try {
        dst = this.opts.originalDestination(socket)
      } catch {
        dst = local
      }
    } else dst = { address: local.address, port: listener.port }
    const base: Omit<ConnContext, 'listener' | 'chain'> = {
      direction: listener.trafficDirection,
      originalIp: dst.address,
      originalPort: dst.port,
      original: dst,
      remoteAddress: plainAddress(socket.remoteAddress),
      isSelf:
        !capture || (dst.port === local.port && (dst.address === local.address || dst.address === '0.0.0.0')),
    }
    const side: ListenerSide =
      name === CAPTURE_OUTBOUND ? 'outbound' : name === CAPTURE_INBOUND ? 'inbound' : 'gateway'
    handleConnection(this.ctx, this.dispatch, side, socket, listener, dst, base)
  }

  /** Stops accepting on every listener (connections in progress continue). */
  async stopAccepting(): Promise<void> {
    this.closed = true
    await this.syncing
    for (const b of this.bound.values()) b.server.close()
    this.bound.clear()
  }

  /** Closes keep-alive connections that are idle now (draining). */
  closeIdle(): void {
    this.h1.closeIdle()
    // HTTP/2: GOAWAY; streams in flight finish, then the session closes.
    for (const s of this.sessions) s.close()
  }

  /** Open downstream connections (HTTP and TCP). */
  get connections(): number {
    return this.sockets.size
  }

  /** Open connections from the app to the outbound capture listener. */
  get outboundConnections(): number {
    return this.outboundSockets.size
  }

  closeAll(): void {
    this.h1.closeAll()
    for (const s of this.sessions) s.destroy()
    for (const s of this.sockets) s.destroy()
  }
}
