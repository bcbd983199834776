// Inbound policy covers WebSocket upgrades too: an HTTP/1.1 request with `Connection: Upgrade`
// reaches the application only after the same policy stage as any request. A real quota service
// (gRPC, memory backend) behind a server sidecar's inbound listener, a real WebSocket-shaped
// upstream, upgrades sent on raw sockets; and an authorization-shaped hook that denies.
import http from 'node:http'
import net from 'node:net'
import * as grpc from '@grpc/grpc-js'
import type { Listener, QuotaRule } from '@minimesh/api'
import { addQuotaService, MemoryQuotaBackend } from '@minimesh/control-plane/quota'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { InboundPolicy } from '../policy.ts'
import type { RunningProxy } from '../proxy.ts'
import { grpcQuotaClient } from '../quota/client.ts'
import { QuotaInboundPolicy } from '../quota/policy.ts'
import { startTestProxy } from '../testdata/harness.ts'
import { POD_IP, sidecarConfig } from '../testdata/sidecar.ts'

const ALLOWANCE = 2

const rule: QuotaRule = {
  name: 'default/websockets',
  maxAmount: ALLOWANCE,
  validDurationMs: 60_000,
  dimensions: { destination: 'destination.labels["app"] | "unknown"' },
  overrides: [],
}

/** A WebSocket-shaped upstream: answers every upgrade with 101 and echoes; counts the upgrades it saw. */
async function wsUpstream(): Promise<{ port: number; upgrades: () => number; close: () => Promise<void> }> {
  let upgrades = 0
  const tunnels = new Set<net.Socket>()
  const server = http.createServer((_req, res) => res.end('not an upgrade'))
  server.on('upgrade', (_req, socket: net.Socket) => {
    upgrades++
    tunnels.add(socket)
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n')
    socket.on('data', (d: Buffer) => socket.write(`echo:${d}`))
    socket.on('error', () => socket.destroy())
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: (server.address() as net.AddressInfo).port,
    upgrades: () => upgrades,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        for (const t of tunnels) t.destroy()
        server.close(() => r())
      }),
  }
}

/** Sends one upgrade request on a fresh connection; resolves with the response head and body seen. */
function upgrade(port: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1', () =>
      sock.write(
        'GET /chat HTTP/1.1\r\nHost: reviews:9080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      ),
    )
    let got = ''
    const done = () => {
      sock.destroy()
      resolve(got)
    }
    sock.on('data', (d: Buffer) => {
      got += d.toString('latin1')
      // A 101 stays open: once the head is in, the answer is known.
      if (got.startsWith('HTTP/1.1 101') && got.includes('\r\n\r\n')) done()
    })
    sock.on('error', done)
    sock.on('close', done)
    setTimeout(done, 3000)
  })
}

async function serverSidecar(appPort: number, policy: InboundPolicy, quotas: QuotaRule[]) {
  const config = sidecarConfig({ reviews: [], db: 1, app: appPort })
  const inbound = config.listeners?.find((l: Listener) => l.name === 'virtualInbound')
  for (const chain of inbound?.filterChains ?? []) chain.quotas = quotas
  return startTestProxy(config, {
    identity: { workload: 'reviews-v1', namespace: 'default', labels: { app: 'reviews', version: 'v1' } },
    originalDestination: () => ({ address: POD_IP, port: 9080 }),
    inboundPolicy: policy,
  })
}

describe('inbound policy on WebSocket upgrades', () => {
  let quotaServer: grpc.Server
  let quotaPort: number
  const closers: (() => Promise<void>)[] = []

  beforeAll(async () => {
    quotaServer = new grpc.Server()
    addQuotaService(quotaServer, new MemoryQuotaBackend())
    quotaPort = await new Promise<number>((resolve, reject) =>
      quotaServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    )
  })
  afterAll(async () => {
    for (const c of closers.reverse()) await c()
    quotaServer.forceShutdown()
  })

  it(`admits ${ALLOWANCE} upgrades under a QuotaPolicy, then answers 429 RL without reaching the app`, async () => {
    const app = await wsUpstream()
    closers.push(app.close)
    const policy = new QuotaInboundPolicy({ client: grpcQuotaClient(`127.0.0.1:${quotaPort}`, 500) })
    const proxy: RunningProxy = await serverSidecar(app.port, policy, [rule])
    closers.push(() => proxy.close())
    const port = proxy.ports.listeners.virtualInbound!
    const answers: string[] = []
    for (let i = 0; i < ALLOWANCE + 2; i++) answers.push(await upgrade(port))
    for (const a of answers.slice(0, ALLOWANCE)) expect(a).toMatch(/^HTTP\/1\.1 101 /)
    for (const a of answers.slice(ALLOWANCE)) {
      expect(a).toMatch(/^HTTP\/1\.1 429 /)
      expect(a).toContain('RESOURCE_EXHAUSTED: quota exceeded for default/websockets')
    }
    expect(app.upgrades()).toBe(ALLOWANCE)
    await expect.poll(() => proxy.accessLog.recent.filter((e) => e.response_flags === 'RL').length).toBe(2)
  })

  it('lets an authorization-shaped hook deny an upgrade (403) before it reaches the app', async () => {
    const app = await wsUpstream()
    closers.push(app.close)
    const seen: { path: string; source: string | undefined }[] = []
    const authz: InboundPolicy = {
      check: (info) => {
        seen.push({ path: info.path, source: info.source?.workload })
        return { allow: false, status: 403, body: 'RBAC: access denied', flag: 'UAEX' }
      },
    }
    const proxy = await serverSidecar(app.port, authz, [])
    closers.push(() => proxy.close())
    const answer = await upgrade(proxy.ports.listeners.virtualInbound!)
    expect(answer).toMatch(/^HTTP\/1\.1 403 /)
    expect(answer).toContain('RBAC: access denied')
    expect(seen).toEqual([{ path: '/chat', source: undefined }])
    expect(app.upgrades()).toBe(0)
  })
})
