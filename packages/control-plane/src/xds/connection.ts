import type { ServerDuplexStream } from '@grpc/grpc-js'
import type { DiscoveryRequest, DiscoveryResponse, TypeUrl } from '@minimesh/api'
import type { ResourceGroup } from '../translate/index.ts'
import type { ProxyInfo } from '../translate/proxy.ts'
import type { PreparedResponse } from './resources.ts'

export type DiscoveryCall = ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>

/** Discovery state of one resource type on one stream (what /debug/syncz shows). */
export interface TypeState {
  subscribed: boolean
  /** The proxy accepts incremental responses of this type (said on its subscription). */
  incremental: boolean
  /** Content of the last response sent, and of the last one ACKed (what the proxy has). */
  sentGroups?: readonly ResourceGroup[]
  acked?: { list: readonly ResourceGroup[]; hash: string }
  /** Hash, version and nonce of the last response sent. */
  sentHash?: string
  sentVersion?: string
  sentNonce?: string
  sentAt?: number
  /** Sent and neither ACKed nor NACKed yet: newer state waits for the answer (one in flight per type). */
  inflight: boolean
  /** Newer state is waiting for the in-flight response's answer. */
  pending: boolean
  ackedVersion?: string
  ackedAt?: number
  lastNack?: { version: string; nonce: string; message: string; at: number }
  pushes: number
  /** When the change carried by the in-flight response started (performance.now()), for convergence. */
  changeAt?: number
}

let connectionCounter = 0

/** One proxy's discovery stream. */
export class Connection {
  readonly id = ++connectionCounter
  readonly proxy: ProxyInfo
  readonly call: DiscoveryCall
  readonly peer: string
  readonly connectedAt = Date.now()
  readonly types = new Map<TypeUrl, TypeState>()
  closed = false
  /**
   * The snapshot this proxy's configuration was last generated from (a push that changed nothing
   * for it counts): with every type ACKed, the proxy serves that snapshot.
   */
  snapshotVersion: number | undefined
  /** Responses go out gzip-compressed (the stream announced `grpc-encoding: gzip`). */
  readonly gzip: boolean

  constructor(proxy: ProxyInfo, call: DiscoveryCall, gzip = false) {
    this.proxy = proxy
    this.call = call
    this.peer = call.getPeer()
    this.gzip = gzip
  }

  state(type: TypeUrl): TypeState {
    let s = this.types.get(type)
    if (!s) {
      s = { subscribed: false, incremental: false, inflight: false, pending: false, pushes: 0 }
      this.types.set(type, s)
    }
    return s
  }

  /** Writes a prepared response; resolves once it is handed to the socket (or the stream ends). */
  write(response: PreparedResponse, framed: boolean): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return resolve()
      try {
        // A framed message goes out as is (framing.ts); a Buffer passes the service's serializer unchanged.
        const message = framed ? (this.gzip ? response.gzipped() : response.framed) : response.buffer
        this.call.write(message as unknown as DiscoveryResponse, () => resolve())
      } catch {
        resolve()
      }
    })
  }
}
