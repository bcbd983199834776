// Retry policy (Envoy's x-envoy-retry-on and x-envoy-retry-grpc-on semantics, as Istio
// configures them): which outcomes are retried, how many times, and the fully jittered
// exponential backoff between tries (base 25 ms, capped at 10× base). gRPC conditions look at
// the grpc-status of a trailers-only response (the only kind that can still be retried).
import type { RetryPolicy } from '@minimesh/api'
import { GrpcStatus } from './grpc.ts'

/** How an attempt failed before a response arrived. */
export type FailureKind = 'connect-failure' | 'reset' | 'per-try-timeout' | 'refused-stream'

export interface CompiledRetry {
  /** Retries after the first try. */
  attempts: number
  perTryTimeoutMs: number
  baseIntervalMs: number
  on5xx: boolean
  onGatewayError: boolean
  onConnectFailure: boolean
  onRefusedStream: boolean
  onReset: boolean
  onRetriable4xx: boolean
  statusCodes: ReadonlySet<number>
  /** gRPC statuses (from grpc-status in the response headers) worth another try. */
  grpcStatuses: ReadonlySet<number>
}

/** Istio's gRPC retryOn conditions and their grpc-status codes. */
const GRPC_CONDITIONS: Readonly<Record<string, number>> = {
  cancelled: GrpcStatus.Cancelled,
  'deadline-exceeded': GrpcStatus.DeadlineExceeded,
  internal: GrpcStatus.Internal,
  'resource-exhausted': GrpcStatus.ResourceExhausted,
  unavailable: GrpcStatus.Unavailable,
}

const DEFAULT_BASE_INTERVAL_MS = 25

export function compileRetry(p: RetryPolicy | undefined): CompiledRetry | undefined {
  if (!p || p.attempts <= 0) return undefined
  const on = new Set(p.retryOn.map((s) => s.trim()))
  const codes = new Set<number>()
  for (const s of on) if (/^\d{3}$/.test(s)) codes.add(Number(s))
  if (on.has('retriable-status-codes')) for (const c of p.retriableStatusCodes ?? []) codes.add(c)
  const grpc = new Set<number>()
  for (const s of on) {
    const g = GRPC_CONDITIONS[s]
    if (g !== undefined) grpc.add(g)
  }
  return {
    attempts: p.attempts,
    perTryTimeoutMs: p.perTryTimeoutMs ?? 0,
    baseIntervalMs: p.baseIntervalMs ?? DEFAULT_BASE_INTERVAL_MS,
    on5xx: on.has('5xx'),
    onGatewayError: on.has('gateway-error'),
    onConnectFailure: on.has('connect-failure'),
    onRefusedStream: on.has('refused-stream'),
    onReset: on.has('reset'),
    onRetriable4xx: on.has('retriable-4xx'),
    statusCodes: codes,
    grpcStatuses: grpc,
  }
}

/** Is a response with this status worth another try? */
export function retriableStatus(r: CompiledRetry, status: number): boolean {
  if (r.on5xx && status >= 500) return true
  if (r.onGatewayError && (status === 502 || status === 503 || status === 504)) return true
  if (r.onRetriable4xx && status === 409) return true
  return r.statusCodes.has(status)
}

/** Is a trailers-only gRPC response with this grpc-status worth another try? */
export function retriableGrpcStatus(r: CompiledRetry, grpcStatus: number | undefined): boolean {
  return grpcStatus !== undefined && r.grpcStatuses.has(grpcStatus)
}

/** Is a failure before any response worth another try? */
export function retriableFailure(r: CompiledRetry, kind: FailureKind): boolean {
  switch (kind) {
    case 'connect-failure':
      return r.onConnectFailure || r.on5xx || r.onGatewayError
    case 'refused-stream':
      return r.onRefusedStream || r.on5xx
    case 'reset':
      return r.onReset || r.on5xx
    case 'per-try-timeout':
      return r.on5xx || r.onGatewayError || r.onReset
  }
}

/** Delay before retry number `n` (1-based): uniform in [0, min(base·2^(n-1), 10·base)]. */
export function backoffMs(r: CompiledRetry, n: number, random: () => number = Math.random): number {
  const cap = Math.min(r.baseIntervalMs * 2 ** (n - 1), 10 * r.baseIntervalMs)
  return Math.floor(random() * cap)
}
