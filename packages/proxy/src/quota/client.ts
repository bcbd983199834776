import * as grpc from '@grpc/grpc-js'
import {
  type AllocateRequest,
  type AllocateResponse__Output,
  loadQuotaProto,
  type QuotaServiceClient,
} from '@minimesh/api'

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

interface Pending {
  resolve(granted: number): void
  reject(err: Error): void
  timer: NodeJS.Timeout
}

/**
 * The real client: one long-lived `AllocateStream` to meshd's `minimesh.quota.v1.QuotaService`,
 * answers matched to requests by id, each with its own deadline. A broken stream fails what is in
 * flight (the checker then fails open or closed) and is opened again on the next request.
 */
export function grpcQuotaClient(
  address: string,
  timeoutMs: number,
  /** Default plaintext; TLS verified against the mesh roots when meshd is reached on 15012. */
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
): QuotaClient {
  const Client = loadQuotaProto().minimesh.quota.v1.QuotaService
  const client = new Client(address, credentials, {
    'grpc.keepalive_time_ms': 30_000,
  }) as QuotaServiceClient
  const pending = new Map<number, Pending>()
  let nextId = 1
  let stream: grpc.ClientDuplexStream<AllocateRequest, AllocateResponse__Output> | undefined

  const failAll = (err: Error) => {
    for (const [id, p] of pending) {
      clearTimeout(p.timer)
      pending.delete(id)
      p.reject(err)
    }
  }
  const open = () => {
    const s = client.AllocateStream()
    s.on('data', (res: AllocateResponse__Output) => {
      const id = Number(res.id)
      const p = pending.get(id)
      if (!p) return
      pending.delete(id)
      clearTimeout(p.timer)
      p.resolve(Number(res.granted_amount))
    })
    const broken = (err?: Error) => {
      if (stream === s) stream = undefined
      failAll(err ?? new Error('quota stream ended'))
    }
    s.on('error', broken)
    s.on('end', () => broken())
    return s
  }

  return {
    allocate(req) {
      stream ??= open()
      const id = nextId++
      return new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id)
          reject(new Error(`quota service did not answer within ${timeoutMs} ms`))
        }, timeoutMs)
        pending.set(id, { resolve, reject, timer })
        stream!.write({
          id,
          quota: req.quota,
          dimensions: req.dimensions,
          amount: req.amount,
          max_amount: req.maxAmount,
          valid_duration_ms: req.validDurationMs,
          dedup_id: req.dedupId ?? '',
        })
      })
    },
    close() {
      failAll(new Error('quota client closed'))
      stream?.end()
      client.close()
    },
  }
}
