import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync, rmSync, writeFileSync } from 'node:fs'
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

function ensureRedisServer(): string | undefined {
  const bin = ['/usr/bin/redis-server', '/usr/sbin/redis-server'].find((p) => existsSync(p))
  if (bin) return bin
  if (process.getuid?.() !== 0) return undefined
  // Install without letting the package start a system-wide Redis (policy-rc.d says "do not start").
  const policy = '/usr/sbin/policy-rc.d'
  const ownPolicy = !existsSync(policy)
  if (ownPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 })
  try {
    execFileSync(
      'bash',
      [
        '-c',
        'apt-get install -y -qq redis-server >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq redis-server >/dev/null)',
      ],
      {
        stdio: 'inherit',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      },
    )
  } finally {
    if (ownPolicy) rmSync(policy, { force: true })
  }
  return existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : undefined
}

const redisBin = ensureRedisServer()
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
    for (let i = 0; i < 50; i++) {
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
      if (ok) break
      await new Promise((r) => setTimeout(r, 100))
    }
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
