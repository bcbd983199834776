// What every listener needs: the configuration store, this workload's identity (and the
// peer-metadata header made from it once), the inbound policy hook, metrics, access log, logger,
// and the in-flight count that draining waits on.
import type { Logger } from 'pino'
import type { AccessLog } from './admin/access-log.ts'
import type { ProxyMetrics } from './admin/metrics.ts'
import type { XdsConfigStore } from './config/store.ts'
import type { PeerInfo } from './http/record.ts'
import type { CertificateStore } from './identity/certificates.ts'
import type { InboundPolicy } from './policy.ts'
import type { Tracer } from './tracing/tracer.ts'

export interface WorkloadIdentity {
  workload: string
  namespace: string
  serviceAccount: string
  labels: Record<string, string>
  pod: string
  ip: string
}

export interface ProxyContext {
  readonly store: XdsConfigStore
  readonly identity: WorkloadIdentity
  /** This workload's mesh certificate (empty until one is obtained; empty forever without a CA). */
  readonly certs: CertificateStore
  /** A CA is configured: the proxy is not ready until its first certificate is in. */
  readonly certificateRequired?: boolean
  /** Value of x-minimesh-peer this proxy sends upstream. */
  readonly peerHeader: string
  readonly inboundPolicy: InboundPolicy | undefined
  readonly metrics: ProxyMetrics
  readonly accessLog: AccessLog
  readonly log: Logger
  /** Spans and trace headers; undefined when tracing is off (headers then pass as they came). */
  tracer?: Tracer | undefined
  /** Requests being handled (drain waits for 0). */
  inflight: number
  draining: boolean
  /**
   * A draining sidecar still accepts the app's outbound connections (captured to virtualOutbound): the app
   * may be finishing its work.
   */
  acceptOutboundWhileDraining?: boolean
  /**
   * A draining classic sidecar still accepts inbound connections for its minimum drain time (Envoy's
   * graceful drain of inbound listeners): the app, told to stop at the same moment, may still be
   * serving (its preStop hook, its own drain) while callers have not yet learnt that the pod left
   * the endpoints. Afterwards, and at once for a native sidecar (stopped after the app), refused.
   */
  acceptInboundWhileDraining?: boolean
}

export function encodePeer(id: WorkloadIdentity): string {
  const peer = {
    workload: id.workload,
    namespace: id.namespace,
    serviceAccount: id.serviceAccount,
    labels: id.labels,
  }
  return Buffer.from(JSON.stringify(peer)).toString('base64url')
}

const peerCache = new Map<string, PeerInfo | undefined>()

/** Decodes a peer header (cached: a mesh has few distinct callers). Undefined when malformed. */
export function decodePeer(value: string | undefined): PeerInfo | undefined {
  if (!value) return undefined
  if (peerCache.has(value)) return peerCache.get(value)
  let peer: PeerInfo | undefined
  try {
    const o = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Partial<PeerInfo>
    if (o && typeof o.workload === 'string' && typeof o.namespace === 'string') {
      const labels: Record<string, string> = {}
      for (const [k, v] of Object.entries(o.labels ?? {})) if (typeof v === 'string') labels[k] = v
      peer = { workload: o.workload, namespace: o.namespace, labels }
      if (typeof o.serviceAccount === 'string') peer.serviceAccount = o.serviceAccount
    }
  } catch {
    peer = undefined
  }
  if (peerCache.size > 1000) peerCache.clear()
  peerCache.set(value, peer)
  return peer
}
