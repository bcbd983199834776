// The TCP proxy: a downstream connection piped to one upstream connection (a host of the
// chain's cluster, or for ORIGINAL_DST clusters the original destination itself), both ways,
// with half-close passed on, over TLS when the cluster has tls, over mesh mTLS to a sidecar
// endpoint (ISTIO_MUTUAL, auto mTLS; ALPN `minimesh`). It takes a lease of the
// cluster's pool like any request (a wait while the pool is full, then overflow: the connection
// is closed, flag UO); an outcome feeds outlier detection. One access-log line per connection.
import net from 'node:net'
import type { TLSSocket } from 'node:tls'
import type { ClusterRuntime } from '../cluster/cluster.ts'
import { Lease } from '../cluster/lease.ts'
import { CLIENT_ALPN, meshConnectOptions, peerPrincipalOf } from '../cluster/mesh-tls.ts'
import type { ProxyContext } from '../context.ts'
import { addFlag, Flag, type RequestRecord } from '../http/record.ts'
import { authorizeConnection } from '../pipeline/authorization.ts'
import type { ConnContext } from './conn.ts'

function tcpRecord(conn: ConnContext, cluster: ClusterRuntime): RequestRecord {
  return {
    startMs: performance.now(),
    startTime: Date.now(),
    direction: conn.direction,
    method: '-',
    path: '-',
    authority: `${conn.originalIp}:${conn.originalPort}`,
    protocol: 'TCP',
    status: 0,
    flags: '',
    bytesReceived: 0,
    bytesSent: 0,
    requestId: '-',
    userAgent: undefined,
    forwardedFor: undefined,
    downstreamRemote: conn.remoteAddress,
    routeName: undefined,
    upstreamCluster: cluster.name,
    upstreamHost: undefined,
    upstreamServiceTimeMs: undefined,
    attempts: 1,
    grpc: false,
    source: undefined,
    destinationService: cluster.config.service?.host ?? cluster.name,
    destinationWorkload: undefined,
    destinationVersion: undefined,
    downstreamPeerPrincipal: conn.peerPrincipal,
    downstreamSecurity: conn.security,
    upstreamPeerPrincipal: undefined,
  }
}

export function proxyTcp(
  ctx: ProxyContext,
  socket: net.Socket,
  conn: ConnContext,
  clusterName: string,
): void {
  const cluster = ctx.store.current.clusters.get(clusterName)
  if (!cluster) {
    socket.destroy()
    return
  }
  const rec = tcpRecord(conn, cluster)
  ctx.inflight++
  let closed = false
  const done = () => {
    if (closed) return
    closed = true
    ctx.inflight--
    if (ctx.accessLog.enabled) ctx.accessLog.write(rec, performance.now() - rec.startMs)
  }
  const refuse = (flag: string) => {
    addFlag(rec, flag)
    socket.destroy()
    done()
  }
  // AuthorizationPolicies (inbound): a denied connection is closed before any upstream connect.
  if (!authorizeConnection(ctx.log, conn)) {
    refuse(Flag.RbacAccessDenied)
    return
  }
  // Passthrough to ourselves would loop forever.
  if (cluster.config.type === 'ORIGINAL_DST' && conn.isSelf) {
    refuse(Flag.UpstreamConnectFailure)
    return
  }
  const host = cluster.choose(undefined, conn.original)
  if (!host) {
    refuse(Flag.NoHealthyUpstream)
    return
  }
  let waiting = false
  const waiter = {
    granted: (lease: Lease) => {
      waiting = false
      pipeTo(lease, socket, rec, done)
    },
  }
  const lease = Lease.acquire(cluster, host, waiter)
  if (lease instanceof Lease) pipeTo(lease, socket, rec, done)
  else if (!lease) refuse(Flag.UpstreamOverflow)
  else {
    // The client leaving while it waits gives its place up.
    waiting = true
    socket.once('close', () => {
      if (!waiting) return
      lease.cancel()
      done()
    })
  }
}

/** Connects to the lease's host (over TLS when the cluster has tls) and joins the two sockets. */
function pipeTo(lease: Lease, socket: net.Socket, rec: RequestRecord, done: () => void): void {
  const { cluster, host } = lease
  rec.upstreamHost = host.key
  // A cluster with tls: the bytes go over a TLS connection the proxy originates (no ALPN); to a
  // mesh endpoint, over mesh mTLS with this workload's certificate.
  const t = cluster.tls
  const mesh = host.meshContext()
  const secure = t !== undefined || mesh !== undefined
  const upstream = mesh
    ? process
        .getBuiltinModule('node:tls')
        .connect({
          host: host.address,
          port: host.port,
          ...meshConnectOptions(mesh, cluster.config, host.endpoint, CLIENT_ALPN.tcp),
        })
        .setNoDelay(true)
    : t
      ? process
          .getBuiltinModule('node:tls')
          .connect({
            host: host.address,
            port: host.port,
            ...t.options,
            ...(t.servername ? { servername: t.servername } : {}),
          })
          .setNoDelay(true)
      : net.connect({ host: host.address, port: host.port, noDelay: true })
  const connectTimer = setTimeout(
    () => upstream.destroy(new Error('connect timeout')),
    cluster.config.connectTimeoutMs || 10_000,
  )
  let connected = false
  upstream.once(secure ? 'secureConnect' : 'connect', () => {
    connected = true
    if (mesh) {
      host.peerPrincipal = peerPrincipalOf(upstream as TLSSocket) ?? host.peerPrincipal
      rec.upstreamPeerPrincipal = host.expectedPrincipal
    }
    clearTimeout(connectTimer)
    cluster.stats.upstream_cx_total++
    cluster.stats.upstream_cx_active++
    cluster.record(host, 200)
    socket.pipe(upstream)
    upstream.pipe(socket)
    socket.resume()
  })
  upstream.on('error', () => {
    if (!connected) {
      cluster.stats.upstream_cx_connect_fail++
      cluster.record(host, 'local-failure')
      addFlag(rec, Flag.UpstreamConnectFailure)
    }
    socket.destroy()
  })
  socket.on('error', () => upstream.destroy())
  upstream.once('close', () => {
    clearTimeout(connectTimer)
    if (connected) cluster.stats.upstream_cx_active--
    rec.bytesSent = upstream.bytesRead
    rec.bytesReceived = upstream.bytesWritten
    lease.release()
    if (!socket.destroyed && !socket.writableEnded) socket.end()
    done()
  })
  socket.once('close', () => {
    if (!upstream.destroyed && !connected) upstream.destroy()
    else if (!upstream.destroyed) upstream.end()
  })
}
