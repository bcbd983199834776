import { createServer } from 'node:net'
import * as grpc from '@grpc/grpc-js'
import type { QuotaRule } from '@minimesh/api'
import { addQuotaService, MemoryQuotaBackend } from '@minimesh/control-plane/quota'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { attributeLookup, serviceFromHost } from './attributes.ts'
import { QuotaChecker, selectLimit } from './checker.ts'
import { grpcQuotaClient } from './client.ts'

const rule: QuotaRule = {
  name: 'default/requestcount',
  maxAmount: 5000,
  validDurationMs: 1000,
  dimensions: {
    source: 'source.labels["app"] | source.service | "unknown"',
    destination: 'destination.labels["app"] | destination.service | "unknown"',
  },
  overrides: [
    { dimensions: { destination: 'ratings', source: 'reviews' }, maxAmount: 2, validDurationMs: 60_000 },
    { dimensions: { destination: 'ratings' }, maxAmount: 1, validDurationMs: 60_000 },
  ],
}

const req = (host: string) => ({ headers: {}, path: '/ratings/0', method: 'GET', host })
const reviews = { workload: 'reviews-v2', namespace: 'default', labels: { app: 'reviews', version: 'v2' } }
const productpage = { workload: 'productpage-v1', namespace: 'default', labels: { app: 'productpage' } }
const ratings = { workload: 'ratings-v1', namespace: 'default', labels: { app: 'ratings', version: 'v1' } }

describe('selectLimit', () => {
  it('takes the first override whose dimensions all match', () => {
    expect(selectLimit(rule, { destination: 'ratings', source: 'reviews' }).maxAmount).toBe(2)
    expect(selectLimit(rule, { destination: 'ratings', source: 'productpage' }).maxAmount).toBe(1)
    expect(selectLimit(rule, { destination: 'details', source: 'productpage' }).maxAmount).toBe(5000)
  })
})

describe('attributes', () => {
  it('falls back through the expression terms', () => {
    const look = attributeLookup(undefined, { labels: {} }, req('ratings.default.svc.cluster.local:9080'))
    expect(look('source.labels', 'app')).toBeUndefined()
    expect(look('destination.service')).toBe('ratings')
    expect(serviceFromHost('198.19.0.7:9080')).toBe('198.19.0.7')
  })
})

describe('QuotaChecker against a real quota service', () => {
  let server: grpc.Server
  let address: string
  beforeAll(async () => {
    server = new grpc.Server()
    addQuotaService(server, new MemoryQuotaBackend())
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    )
    address = `127.0.0.1:${port}`
  })
  afterAll(() => server.forceShutdown())

  it('admits per override, then answers 429 RL naming the quota', async () => {
    const decisions: boolean[] = []
    const checker = new QuotaChecker({
      client: grpcQuotaClient(address, 500),
      onDecision: (_q, ok) => decisions.push(ok),
    })
    const fromReviews = async () =>
      checker.check([rule], attributeLookup(reviews, ratings, req('ratings:9080')))
    const fromProductpage = async () =>
      checker.check([rule], attributeLookup(productpage, ratings, req('ratings:9080')))
    expect((await fromReviews()).allowed).toBe(true)
    expect((await fromReviews()).allowed).toBe(true)
    const third = await fromReviews()
    expect(third).toEqual({
      allowed: false,
      status: 429,
      body: 'RESOURCE_EXHAUSTED: quota exceeded for default/requestcount',
      flag: 'RL',
      quota: 'default/requestcount',
    })
    expect((await fromProductpage()).allowed).toBe(true) // its own counter, limit 1
    expect((await fromProductpage()).allowed).toBe(false)
    expect(decisions).toEqual([true, true, false, true, false])
  })

  it('fails open by default and closed when asked, counting both', async () => {
    const dead = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port
        s.close(() => resolve(p))
      })
    })
    const errors: boolean[] = []
    const onServiceError = (_q: string, admitted: boolean) => errors.push(admitted)
    const lookup = attributeLookup(reviews, ratings, req('ratings:9080'))
    const open = new QuotaChecker({ client: grpcQuotaClient(`127.0.0.1:${dead}`, 200), onServiceError })
    const closed = new QuotaChecker({
      client: grpcQuotaClient(`127.0.0.1:${dead}`, 200),
      failOpen: false,
      onServiceError,
    })
    expect((await open.check([rule], lookup)).allowed).toBe(true)
    expect((await closed.check([rule], lookup)).allowed).toBe(false)
    expect(errors).toEqual([true, false])
  })
})
