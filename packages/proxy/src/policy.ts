// Server-side policy on the inbound path (quota today, authorization later): a hook the inbound
// listener awaits before a request reaches the application. A denial becomes a local reply with
// the given status, body and response flag (RL for quota).
import type { QuotaRule } from '@minimesh/api'
import type { PeerInfo } from './http/record.ts'

export interface InboundRequestInfo {
  method: string
  /** Path with query string, as received. */
  path: string
  /** Host header. */
  host: string
  /** Lower-case request headers (the peer-metadata header already removed). */
  headers: Readonly<Record<string, string>>
  requestId: string
  /** The calling workload from peer metadata; undefined = from outside the mesh. */
  source: PeerInfo | undefined
  sourceAddress: string
  /** This workload and the port the request was addressed to. */
  destination: {
    port: number
    workload: string
    namespace: string
    serviceAccount: string
    labels: Readonly<Record<string, string>>
  }
  /** Quota rules of the inbound filter chain that took the request. */
  quotas: readonly QuotaRule[]
}

export type PolicyDecision =
  | { allow: true }
  | {
      allow: false
      status: number
      body: string
      /** Envoy response flag for the access log and metrics, e.g. 'RL'. */
      flag: string
      headers?: Record<string, string>
    }

export interface InboundPolicy {
  check(info: InboundRequestInfo): PolicyDecision | Promise<PolicyDecision>
}
