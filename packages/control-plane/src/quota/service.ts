import type * as grpc from '@grpc/grpc-js'
import {
  type AllocateRequest__Output,
  loadQuotaProto,
  type QuotaServiceHandlers,
  type ReleaseRequest__Output,
} from '@minimesh/api'
import type { AllocateArgs, QuotaBackend } from './backend.ts'

/** Counters of the quota service's decisions, for meshd's /metrics. */
export interface QuotaServiceStats {
  onDecision?(quota: string, granted: boolean): void
  onError?(quota: string, err: unknown): void
}

function invalid(message: string): Partial<grpc.StatusObject> {
  return { code: 3 /* INVALID_ARGUMENT */, details: message }
}

/** Adds `minimesh.quota.v1.QuotaService` on `backend` to a gRPC server (meshd's, on 15010). */
/** Checks an AllocateRequest and turns it into backend arguments, or names the bad field. */
function toArgs(req: AllocateRequest__Output): AllocateArgs | string {
  const amount = Number(req.amount)
  const maxAmount = Number(req.max_amount)
  const validDurationMs = Number(req.valid_duration_ms)
  if (!req.quota) return 'quota: required'
  if (!(amount > 0)) return `amount: must be positive, got ${req.amount}`
  if (!(maxAmount >= 0)) return `max_amount: must not be negative, got ${req.max_amount}`
  if (!(validDurationMs >= 0)) return `valid_duration_ms: must not be negative, got ${req.valid_duration_ms}`
  return {
    quota: req.quota,
    dimensions: req.dimensions,
    amount,
    maxAmount,
    validDurationMs,
    dedupId: req.dedup_id || undefined,
    bestEffort: req.best_effort,
  }
}

/** Adds `minimesh.quota.v1.QuotaService` on `backend` to a gRPC server (meshd's, on 15010). */
export function addQuotaService(
  server: grpc.Server,
  backend: QuotaBackend,
  stats: QuotaServiceStats = {},
): void {
  const decide = (args: AllocateArgs) =>
    backend.allocate(args).then(
      (r) => {
        stats.onDecision?.(args.quota, r.grantedAmount > 0)
        return r
      },
      (err: unknown) => {
        stats.onError?.(args.quota, err)
        throw err
      },
    )
  const handlers: QuotaServiceHandlers = {
    Allocate(call, callback) {
      const args = toArgs(call.request)
      if (typeof args === 'string') return callback(invalid(args))
      decide(args).then(
        (r) => callback(null, { granted_amount: r.grantedAmount, valid_duration_ms: r.validDurationMs }),
        (err: unknown) =>
          callback({
            code: 14 /* UNAVAILABLE */,
            details: `quota backend ${backend.name}: ${(err as Error).message}`,
          }),
      )
    },
    AllocateStream(call) {
      call.on('data', (req: AllocateRequest__Output) => {
        const args = toArgs(req)
        // A bad request on the stream is refused (granted 0) rather than ending everyone's stream.
        if (typeof args === 'string')
          return void call.write({ id: req.id, granted_amount: 0, valid_duration_ms: 0 })
        decide(args).then(
          (r) =>
            call.write({ id: req.id, granted_amount: r.grantedAmount, valid_duration_ms: r.validDurationMs }),
          (err: unknown) => call.destroy(err as Error),
        )
      })
      call.on('end', () => call.end())
      call.on('error', () => {})
    },
    Release(call, callback) {
      const req: ReleaseRequest__Output = call.request
      backend.release(req.quota, req.dimensions, Number(req.amount)).then(
        (released) => callback(null, { released_amount: released }),
        (err: unknown) =>
          callback({ code: 14, details: `quota backend ${backend.name}: ${(err as Error).message}` }),
      )
    },
  }
  server.addService(loadQuotaProto().minimesh.quota.v1.QuotaService.service, handlers)
}
