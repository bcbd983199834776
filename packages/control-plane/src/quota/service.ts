import type * as grpc from '@grpc/grpc-js'
import {
  type AllocateRequest__Output,
  loadQuotaProto,
  type QuotaServiceHandlers,
  type ReleaseRequest__Output,
} from '@minimesh/api'
import type { QuotaBackend } from './backend.ts'

/** Counters of the quota service's decisions, for meshd's /metrics. */
export interface QuotaServiceStats {
  onDecision?(quota: string, granted: boolean): void
  onError?(quota: string, err: unknown): void
}

function invalid(message: string): Partial<grpc.StatusObject> {
  return { code: 3 /* INVALID_ARGUMENT */, details: message }
}

/** Adds `minimesh.quota.v1.QuotaService` on `backend` to a gRPC server (meshd's, on 15010). */
export function addQuotaService(
  server: grpc.Server,
  backend: QuotaBackend,
  stats: QuotaServiceStats = {},
): void {
  const handlers: QuotaServiceHandlers = {
    Allocate(call, callback) {
      const req: AllocateRequest__Output = call.request
      const amount = Number(req.amount)
      const maxAmount = Number(req.max_amount)
      const validDurationMs = Number(req.valid_duration_ms)
      if (!req.quota) return callback(invalid('quota: required'))
      if (!(amount > 0)) return callback(invalid(`amount: must be positive, got ${req.amount}`))
      if (!(maxAmount >= 0))
        return callback(invalid(`max_amount: must not be negative, got ${req.max_amount}`))
      if (!(validDurationMs >= 0))
        return callback(invalid(`valid_duration_ms: must not be negative, got ${req.valid_duration_ms}`))
      backend
        .allocate({
          quota: req.quota,
          dimensions: req.dimensions,
          amount,
          maxAmount,
          validDurationMs,
          dedupId: req.dedup_id || undefined,
          bestEffort: req.best_effort,
        })
        .then(
          (r) => {
            stats.onDecision?.(req.quota, r.grantedAmount > 0)
            callback(null, { granted_amount: r.grantedAmount, valid_duration_ms: r.validDurationMs })
          },
          (err: unknown) => {
            stats.onError?.(req.quota, err)
            callback({
              code: 14 /* UNAVAILABLE */,
              details: `quota backend ${backend.name}: ${(err as Error).message}`,
            })
          },
        )
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
