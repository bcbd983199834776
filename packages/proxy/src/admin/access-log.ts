// The access log: one JSON object per request (Istio's JSON access-log field names, Envoy
// response flags), written in batches so a busy proxy makes one write per event-loop turn.
import type { RequestRecord } from '../http/record.ts'

/** Where access-log lines go: a Writable, or anything with write(text) (pino's sync file destination). */
export interface LogSink {
  write(text: string): unknown
}

export interface AccessLogEntry {
  start_time: string
  direction: string
  method: string
  path: string
  protocol: string
  authority: string
  response_code: number
  response_flags: string
  bytes_received: number
  bytes_sent: number
  duration: number
  upstream_service_time: number | null
  upstream_cluster: string | null
  upstream_host: string | null
  route_name: string | null
  request_id: string
  x_forwarded_for: string | null
  user_agent: string | null
  downstream_remote_address: string
  attempts: number
  /** Principals proved over mesh mTLS (`cluster.local/ns/<ns>/sa/<sa>`), null for plaintext. */
  downstream_peer_principal: string | null
  upstream_peer_principal: string | null
  /** 'mutual_tls' when the downstream connection came over mesh mTLS, else 'none'. */
  connection_security_policy: string
}

function toEntry(rec: RequestRecord, durationMs: number): AccessLogEntry {
  return {
    start_time: new Date(rec.startTime).toISOString(),
    direction: rec.direction.toLowerCase(),
    method: rec.method,
    path: rec.path,
    protocol: rec.protocol,
    authority: rec.authority,
    response_code: rec.status,
    response_flags: rec.flags || '-',
    bytes_received: rec.bytesReceived,
    bytes_sent: rec.bytesSent,
    duration: Math.round(durationMs),
    upstream_service_time:
      rec.upstreamServiceTimeMs === undefined ? null : Math.round(rec.upstreamServiceTimeMs),
    upstream_cluster: rec.upstreamCluster ?? null,
    upstream_host: rec.upstreamHost ?? null,
    route_name: rec.routeName ?? null,
    request_id: rec.requestId,
    x_forwarded_for: rec.forwardedFor ?? null,
    user_agent: rec.userAgent ?? null,
    downstream_remote_address: rec.downstreamRemote,
    attempts: rec.attempts,
    downstream_peer_principal: rec.downstreamPeerPrincipal ?? null,
    upstream_peer_principal: rec.upstreamPeerPrincipal ?? null,
    connection_security_policy: rec.downstreamSecurity === 'mutual_tls' ? 'mutual_tls' : 'none',
  }
}

export class AccessLog {
  private readonly out: LogSink | undefined
  private batch: string[] = []
  private scheduled = false
  /** Entries kept in memory too (tests, debugging); 0 = none. */
  private readonly keep: number
  readonly recent: AccessLogEntry[] = []

  /** `out` undefined: access logging off. */
  constructor(out: LogSink | undefined, keep = 0) {
    this.out = out
    this.keep = keep
  }

  get enabled(): boolean {
    return this.out !== undefined || this.keep > 0
  }

  write(rec: RequestRecord, durationMs: number): void {
    const entry = toEntry(rec, durationMs)
    if (this.keep > 0) {
      this.recent.push(entry)
      if (this.recent.length > this.keep) this.recent.shift()
    }
    if (!this.out) return
    this.batch.push(JSON.stringify(entry))
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(() => this.flush())
    }
  }

  flush(): void {
    this.scheduled = false
    if (this.batch.length === 0 || !this.out) return
    const text = `${this.batch.join('\n')}\n`
    this.batch = []
    this.out.write(text)
  }
}
