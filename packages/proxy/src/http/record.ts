// What the proxy remembers about one request, for the access log and the metrics.

/** Envoy response flags minimesh sets. */
export const Flag = {
  /** Upstream connection failure (or reset before response headers). */
  UpstreamConnectFailure: 'UF',
  /** Upstream overflow: connection-pool limits (circuit breaking). */
  UpstreamOverflow: 'UO',
  /** No route (or no virtual host) for the request. */
  NoRoute: 'NR',
  /** Retry limit exceeded with the last try still failing. */
  RetryLimitExceeded: 'URX',
  /** Upstream request timeout (route timeout or last per-try timeout). */
  UpstreamTimeout: 'UT',
  /** Fault injection delayed the request. */
  DelayInjected: 'DI',
  /** Fault injection aborted the request. */
  FaultInjected: 'FI',
  /** Rate limited (quota). */
  RateLimited: 'RL',
  /** No healthy upstream host. */
  NoHealthyUpstream: 'UH',
  /** The route names a cluster this proxy does not have. */
  NoCluster: 'NC',
  /** Downstream closed the connection before the response was done. */
  DownstreamTermination: 'DC',
  /** Upstream reset after the response started. */
  UpstreamReset: 'UR',
  /** Denied by policy (authorization). */
  Unauthorized: 'UAEX',
  /** Denied by an AuthorizationPolicy (Envoy's RBAC filter). */
  RbacAccessDenied: 'RBAC',
} as const

export type Direction = 'OUTBOUND' | 'INBOUND' | 'GATEWAY'

export interface PeerInfo {
  workload: string
  namespace: string
  serviceAccount?: string
  labels: Record<string, string>
}

export interface RequestRecord {
  startMs: number
  startTime: number
  direction: Direction
  method: string
  /** Original request target. */
  path: string
  authority: string
  protocol: string
  status: number
  flags: string
  bytesReceived: number
  bytesSent: number
  requestId: string
  userAgent: string | undefined
  forwardedFor: string | undefined
  downstreamRemote: string
  routeName: string | undefined
  upstreamCluster: string | undefined
  upstreamHost: string | undefined
  /** Upstream time to response headers, ms. */
  upstreamServiceTimeMs: number | undefined
  attempts: number
  /** A gRPC request (content-type application/grpc): local replies are gRPC errors. */
  grpc: boolean
  /** For metrics: the calling and the called workload. */
  source: PeerInfo | undefined
  destinationService: string | undefined
  destinationWorkload: string | undefined
  destinationVersion: string | undefined
  /** The downstream peer's principal (`cluster.local/ns/<ns>/sa/<sa>`), when it came over mesh mTLS. */
  downstreamPeerPrincipal: string | undefined
  /** How the downstream connection was secured ('mutual_tls': mesh mTLS); undefined: plaintext. */
  downstreamSecurity: 'mutual_tls' | 'tls' | undefined
  /** The upstream peer's principal, when the (last) try went over mesh mTLS. */
  upstreamPeerPrincipal: string | undefined
}

export function addFlag(rec: RequestRecord, flag: string): void {
  if (rec.flags === '-' || rec.flags === '') rec.flags = flag
  else if (!rec.flags.split(',').includes(flag)) rec.flags = `${rec.flags},${flag}`
}
