import * as grpc from '@grpc/grpc-js'
import { loadQuotaProto, type QuotaServiceClient } from '@minimesh/api'

export interface QuotaRequest {
  quota: string
  dimensions: Record<string, string>
  amount: number
  maxAmount: number
  validDurationMs: number
  dedupId?: string
}

/** Asks the quota service for an allocation. Rejects on transport errors and timeouts. */
export interface QuotaClient {
  allocate(req: QuotaRequest): Promise<number>
  close(): void
}

/** The real client: gRPC `minimesh.quota.v1.QuotaService` on meshd, with a per-call deadline. */
export function grpcQuotaClient(address: string, timeoutMs: number): QuotaClient {
  const Client = loadQuotaProto().minimesh.quota.v1.QuotaService
  const client = new Client(address, grpc.credentials.createInsecure(), {
    'grpc.keepalive_time_ms': 30_000,
  }) as QuotaServiceClient
  return {
    allocate(req) {
      return new Promise((resolve, reject) => {
        client.Allocate(
          {
            quota: req.quota,
            dimensions: req.dimensions,
            amount: req.amount,
            max_amount: req.maxAmount,
            valid_duration_ms: req.validDurationMs,
            dedup_id: req.dedupId ?? '',
          },
          { deadline: Date.now() + timeoutMs },
          (err, res) => (err ? reject(err) : resolve(Number(res?.granted_amount ?? 0))),
        )
      })
    },
    close: () => client.close(),
  }
}
