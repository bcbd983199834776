import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import * as grpc from '@grpc/grpc-js'
import { loadQuotaProto, type QuotaServiceClient } from '@minimesh/api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { QuotaBackend } from './backend.ts'
import { MemoryQuotaBackend } from './memory.ts'
import { RedisQuotaBackend } from './redis.ts'
import { addQuotaService } from './service.ts'

async function startServer(backend: QuotaBackend) {
  const server = new grpc.Server()
  addQuotaService(server, backend)
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  )
  const Client = loadQuotaProto().minimesh.quota.v1.QuotaService
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as QuotaServiceClient
  const allocate = (req: Parameters<QuotaServiceClient['Allocate']>[0]) =>
    new Promise<{ granted: number; error?: grpc.ServiceError }>((resolve) =>
      client.Allocate(req, (err, res) =>
        resolve({ granted: Number(res?.granted_amount ?? 0), error: err ?? undefined }),
      ),
    )
  return { server, client, allocate }
}

describe('quota service over gRPC (memory backend)', () => {
  let s: Awaited<ReturnType<typeof startServer>>
  beforeAll(async () => {
    s = await startServer(new MemoryQuotaBackend())
  })
  afterAll(() => {
    s.client.close()
    s.server.forceShutdown()
  })

  it('grants up to max_amount and refuses the rest', async () => {
    const req = {
      quota: 'default/q',
      dimensions: { destination: 'ratings' },
      amount: 1,
      max_amount: 3,
      valid_duration_ms: 60_000,
    }
    const results = []
    for (let i = 0; i < 5; i++) results.push((await s.allocate(req)).granted)
    expect(results).toEqual([1, 1, 1, 0, 0])
  })

  it('rejects a bad request with INVALID_ARGUMENT naming the field', async () => {
    const r = await s.allocate({ quota: 'default/q', amount: 0, max_amount: 1, valid_duration_ms: 1000 })
    expect(r.error?.code).toBe(grpc.status.INVALID_ARGUMENT)
    expect(r.error?.details).toContain('amount')
  })
})

/** A real Redis from Debian's redis-server, started for this test on a free port and stopped after. */
async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port
      srv.close(() => resolve(port))
    })
  })
}

// redis-server is provisioned by scripts/ensure-host-deps.sh (make test runs it as root), never here.
const redisBin = ['/usr/bin/redis-server', '/usr/sbin/redis-server'].find((p) => existsSync(p))
const redisMissing = redisBin
  ? undefined
  : 'redis-server is not installed: run scripts/ensure-host-deps.sh as root (make test does), or apt-get install redis-server'
if (redisMissing && process.env.CI !== 'true')
  console.warn(`quota service over Redis skipped: ${redisMissing}`)
// In CI nothing is skipped: a missing redis-server fails with what to do.
if (redisMissing && process.env.CI === 'true')
  it('redis-server is installed (required in CI)', () => {
    expect.fail(redisMissing)
  })

describe.runIf(redisBin)('quota service over gRPC (Redis backend, real redis-server)', () => {
  let redis: ChildProcess
  let port: number
  let a: Awaited<ReturnType<typeof startServer>>
  let b: Awaited<ReturnType<typeof startServer>>

  beforeAll(async () => {
    port = await freePort()
    redis = spawn(
      redisBin!,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    )
    let up = false
    for (let i = 0; i < 50 && !up; i++) {
      const probe = new RedisQuotaBackend({
        url: `redis://127.0.0.1:${port}`,
        options: { maxRetriesPerRequest: 0, retryStrategy: () => null },
      })
      const ok = await probe
        .allocate({ quota: 'probe', dimensions: {}, amount: 1, maxAmount: 1, validDurationMs: 0 })
        .then(
          () => true,
          () => false,
        )
      await probe.close()
      up = ok
      if (!ok) await new Promise((r) => setTimeout(r, 100))
    }
    if (!up) throw new Error(`${redisBin} did not answer on 127.0.0.1:${port} within 5 s`)
    // Two meshd replicas' worth of quota servers sharing one Redis.
    a = await startServer(new RedisQuotaBackend({ url: `redis://127.0.0.1:${port}` }))
    b = await startServer(new RedisQuotaBackend({ url: `redis://127.0.0.1:${port}` }))
  })
  afterAll(() => {
    for (const s of [a, b]) {
      s?.client.close()
      s?.server.forceShutdown()
    }
    redis?.kill('SIGKILL')
  })

  it('counts across replicas: two servers share one allowance', async () => {
    const req = {
      quota: 'default/shared',
      dimensions: { destination: 'ratings' },
      amount: 1,
      max_amount: 4,
      valid_duration_ms: 60_000,
    }
    const got = []
    for (let i = 0; i < 4; i++) got.push((await (i % 2 ? b : a).allocate(req)).granted)
    got.push((await a.allocate(req)).granted, (await b.allocate(req)).granted)
    expect(got).toEqual([1, 1, 1, 1, 0, 0])
  })

  it('the window rolls: a 300 ms window admits again after it passes', async () => {
    const req = { quota: 'default/roll', dimensions: {}, amount: 1, max_amount: 2, valid_duration_ms: 300 }
    const first = [
      (await a.allocate(req)).granted,
      (await b.allocate(req)).granted,
      (await a.allocate(req)).granted,
    ]
    expect(first).toEqual([1, 1, 0])
    await new Promise((r) => setTimeout(r, 450))
    expect((await b.allocate(req)).granted).toBe(1)
  })

  it('dedup ids and allocation quotas behave as in memory', async () => {
    const req = {
      quota: 'default/alloc',
      dimensions: {},
      amount: 1,
      max_amount: 1,
      valid_duration_ms: 0,
      dedup_id: 'x',
    }
    expect((await a.allocate(req)).granted).toBe(1)
    expect((await b.allocate(req)).granted).toBe(1) // replayed
    expect((await a.allocate({ ...req, dedup_id: 'y' })).granted).toBe(0)
  })
})
