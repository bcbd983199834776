// Retries, upstream failures, headers on the wire, streaming bodies and WebSocket upgrades,
// against real upstream servers.
import http from 'node:http'
import net from 'node:net'
import type { RetryPolicy } from '@minimesh/api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningProxy } from '../proxy.ts'
import {
  call,
  cluster,
  endpoints,
  gatewayConfig,
  gatewayPort,
  startTestProxy,
  startUpstream,
  type Upstream,
} from '../testdata/harness.ts'
import { freePort } from '../testdata/ports.ts'
import { POD_IP, sidecarConfig } from '../testdata/sidecar.ts'
import { UPSTREAM_FAILURE_HEADER } from './forward.ts'

async function proxyFor(ups: Upstream[], retry?: RetryPolicy, timeoutMs?: number): Promise<RunningProxy> {
  return startTestProxy(
    gatewayConfig(
      [
        {
          match: {},
          route: {
            clusters: [{ name: 'c', weight: 1 }],
            ...(retry ? { retry } : {}),
            ...(timeoutMs ? { timeoutMs } : {}),
          },
        },
      ],
      [cluster('c')],
      [endpoints('c', ups)],
    ),
  )
}

/** Fails the first `n` requests with `status`, then answers 200. */
async function flaky(n: number, status: number): Promise<Upstream & { count: () => number }> {
  let count = 0
  const up = await startUpstream('flaky', (_req, res) => {
    count++
    if (count <= n) res.writeHead(status).end('nope')
    else res.writeHead(200).end('ok')
  })
  return Object.assign(up, { count: () => count })
}

describe('retries', () => {
  it('retries 5xx up to attempts, then succeeds', async () => {
    const up = await flaky(2, 503)
    const proxy = await proxyFor([up], { attempts: 2, retryOn: ['5xx'], baseIntervalMs: 5 })
    const r = await call(gatewayPort(proxy), '/')
    expect(r.status).toBe(200)
    expect(up.count()).toBe(3)
    expect(proxy.accessLog.recent.at(-1)?.attempts).toBe(3)
    await proxy.close()
    await up.close()
  })

  it('gives up after attempts with URX and the last response', async () => {
    const up = await flaky(10, 502)
    const proxy = await proxyFor([up], { attempts: 2, retryOn: ['gateway-error'], baseIntervalMs: 5 })
    const r = await call(gatewayPort(proxy), '/')
    expect(r.status).toBe(502)
    expect(r.text).toBe('nope')
    expect(up.count()).toBe(3)
    expect(proxy.accessLog.recent.at(-1)?.response_flags).toBe('URX')
    await proxy.close()
    await up.close()
  })

  it('retries only what retryOn names: retriable-4xx (409) and status codes', async () => {
    const up = await flaky(1, 409)
    const proxy = await proxyFor([up], { attempts: 1, retryOn: ['retriable-4xx'], baseIntervalMs: 5 })
    expect((await call(gatewayPort(proxy), '/')).status).toBe(200)
    await proxy.close()
    const up2 = await flaky(1, 429)
    const p2 = await proxyFor([up2], { attempts: 1, retryOn: ['5xx'], baseIntervalMs: 5 })
    expect((await call(gatewayPort(p2), '/')).status).toBe(429)
    await p2.close()
    const up3 = await flaky(1, 429)
    const p3 = await proxyFor([up3], {
      attempts: 1,
      retryOn: ['retriable-status-codes'],
      retriableStatusCodes: [429],
      baseIntervalMs: 5,
    })
    expect((await call(gatewayPort(p3), '/')).status).toBe(200)
    await p3.close()
    await Promise.all([up.close(), up2.close(), up3.close()])
  })

  it('retries a POST body (buffered) and a connect failure on another host', async () => {
    const dead = { port: await freePort() } as Upstream
    const good = await startUpstream('good')
    const proxy = await proxyFor([dead, good], {
      attempts: 2,
      retryOn: ['connect-failure'],
      baseIntervalMs: 5,
    })
    for (let i = 0; i < 4; i++) {
      const r = await call(gatewayPort(proxy), '/', { method: 'POST', body: `body-${i}` })
      expect(r.status).toBe(200)
      expect(r.json<{ body: string }>().body).toBe(`body-${i}`)
    }
    await proxy.close()
    await good.close()
  })

  it('a peer sidecar whose app refused the connection: 503 marked connect-failure, retried on another pod', async () => {
    // The peer: a real sidecar whose app (inbound 9080) is gone, as in a pod shutting down.
    const gonePort = await freePort()
    const peer = await startTestProxy(sidecarConfig({ reviews: [], db: 1, app: gonePort }), {
      originalDestination: () => ({ address: POD_IP, port: 9080 }),
    })
    const peerInbound = { port: peer.ports.listeners.virtualInbound! } as Upstream
    const direct = await call(peerInbound.port, '/')
    expect(direct.status).toBe(503)
    expect(direct.headers[UPSTREAM_FAILURE_HEADER]).toBe('connect-failure')
    const good = await startUpstream('good')
    // The default retry policy (connect-failure): every request reaches the live pod.
    const proxy = await proxyFor([peerInbound, good], {
      attempts: 2,
      retryOn: ['connect-failure'],
      baseIntervalMs: 5,
    })
    for (let i = 0; i < 4; i++) {
      const r = await call(gatewayPort(proxy), '/')
      expect(r.status).toBe(200)
      expect(r.json<{ name: string }>().name).toBe('good')
    }
    // Without connect-failure in retryOn the 503 goes to the caller, without the internal header.
    const noRetry = await proxyFor([peerInbound], { attempts: 2, retryOn: ['reset'], baseIntervalMs: 5 })
    const r = await call(gatewayPort(noRetry), '/')
    expect(r.status).toBe(503)
    expect(r.headers[UPSTREAM_FAILURE_HEADER]).toBeUndefined()
    await Promise.all([proxy.close(), noRetry.close(), peer.close(), good.close()])
  })

  it('per-try timeout retries, and the last try timing out gives 504 UT', async () => {
    let n = 0
    const up = await startUpstream('slow-first', (_req, res) => {
      n++
      if (n === 1) setTimeout(() => res.end('late'), 500)
      else res.end('fast')
    })
    const proxy = await proxyFor([up], {
      attempts: 1,
      retryOn: ['5xx'],
      perTryTimeoutMs: 100,
      baseIntervalMs: 5,
    })
    const r = await call(gatewayPort(proxy), '/')
    expect(r.text).toBe('fast')
    const stuck = await startUpstream('stuck', (_req, res) => setTimeout(() => res.end('late'), 500))
    const p2 = await proxyFor([stuck], {
      attempts: 1,
      retryOn: ['5xx'],
      perTryTimeoutMs: 100,
      baseIntervalMs: 5,
    })
    const t0 = performance.now()
    const r2 = await call(gatewayPort(p2), '/')
    expect(r2.status).toBe(504)
    expect(performance.now() - t0).toBeLessThan(450)
    expect(p2.accessLog.recent.at(-1)?.response_flags).toBe('URX,UT')
    expect(stuck.seen.length).toBe(2)
    await p2.close()
    await proxy.close()
    await Promise.all([up.close(), stuck.close()])
  })
})

describe('upstream failures', () => {
  it('an upstream reset before headers is 503 UF', async () => {
    const up = await startUpstream('reset', (req) => req.socket.destroy())
    const proxy = await proxyFor([up])
    const r = await call(gatewayPort(proxy), '/')
    expect(r.status).toBe(503)
    expect(r.text).toContain('reset reason: connection termination')
    expect(proxy.accessLog.recent.at(-1)?.response_flags).toBe('UF')
    await proxy.close()
    await up.close()
  })
})

describe('headers and bodies', () => {
  let up: Upstream
  let proxy: RunningProxy
  beforeAll(async () => {
    up = await startUpstream('echo')
    proxy = await proxyFor([up])
  })
  afterAll(async () => {
    await proxy.close()
    await up.close()
  })

  it('drops headers named in Connection', async () => {
    const sock = net.connect(gatewayPort(proxy), '127.0.0.1')
    sock.write(
      'GET /c HTTP/1.1\r\nHost: a\r\nConnection: close, x-secret\r\nX-Secret: hop\r\nX-Kept: yes\r\n\r\n',
    )
    let got = ''
    sock.on('data', (d: Buffer) => {
      got += d.toString()
    })
    await new Promise((r) => sock.once('close', r))
    expect(got).toMatch(/^HTTP\/1\.1 200/)
    const h = up.seen.at(-1)!.headers
    expect(h['x-kept']).toBe('yes')
    expect(h['x-secret']).toBeUndefined()
  })

  it('makes x-request-id, passes trace headers, sets x-forwarded-*, drops hop-by-hop, keeps Host', async () => {
    const r = await call(gatewayPort(proxy), '/', {
      headers: {
        host: 'bookinfo.example:8080',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        tracestate: 'congo=t61rcWkgMzE',
        'x-b3-traceid': '80f198ee56343ba864fe8b2a57d3eff7',
        'x-b3-spanid': 'e457b5a2e4d86bd1',
        'x-b3-sampled': '1',
        b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1',
        'x-forwarded-for': '203.0.113.9',
        'proxy-connection': 'keep-alive',
      },
    })
    const h = r.json<{ headers: Record<string, string> }>().headers
    expect(h['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
    expect(h.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')
    expect(h.tracestate).toBe('congo=t61rcWkgMzE')
    expect(h['x-b3-traceid']).toBe('80f198ee56343ba864fe8b2a57d3eff7')
    expect(h.b3).toBe('80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1')
    expect(h['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1')
    expect(h['x-forwarded-proto']).toBe('http')
    expect(h['proxy-connection']).toBeUndefined()
    expect(h.host).toBe('bookinfo.example:8080')
  })

  it('keeps a given x-request-id', async () => {
    const r = await call(gatewayPort(proxy), '/', { headers: { 'x-request-id': 'abc-123' } })
    expect(r.json<{ headers: Record<string, string> }>().headers['x-request-id']).toBe('abc-123')
    expect(proxy.accessLog.recent.at(-1)?.request_id).toBe('abc-123')
  })

  it('streams a large chunked request body and response body', async () => {
    const big = await startUpstream('big', (req, res, body) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write(body.slice(0, 1000))
      setTimeout(() => res.end(body.slice(1000)), 20)
      void req
    })
    const p = await proxyFor([big])
    const payload = 'x'.repeat(300_000)
    const got = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        { port: gatewayPort(p), method: 'POST', path: '/', headers: { 'transfer-encoding': 'chunked' } },
        (res) => {
          let s = ''
          res.setEncoding('utf8')
          res.on('data', (c: string) => {
            s += c
          })
          res.on('end', () => resolve(s))
        },
      )
      req.on('error', reject)
      req.write(payload.slice(0, 100_000))
      setTimeout(() => req.end(payload.slice(100_000)), 20)
    })
    expect(got.length).toBe(payload.length)
    expect(big.seen.at(-1)?.headers['transfer-encoding']).toBe('chunked')
    await p.close()
    await big.close()
  })
})

describe('WebSocket upgrade', () => {
  it('passes the upgrade through and relays bytes both ways', async () => {
    const server = http.createServer()
    let upstreamEnded = false
    server.on('upgrade', (req, socket) => {
      socket.on('end', () => {
        upstreamEnded = true
        socket.destroy()
      })
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: test\r\n\r\n',
      )
      socket.on('data', (d: Buffer) => socket.write(`echo:${d.toString()}|${req.url}`))
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const up = { port: (server.address() as net.AddressInfo).port } as Upstream
    const proxy = await proxyFor([up])
    const sock = net.connect(gatewayPort(proxy), '127.0.0.1')
    sock.write(
      'GET /ws HTTP/1.1\r\nHost: ws.local\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    )
    let got = ''
    sock.on('data', (d: Buffer) => {
      got += d.toString()
      if (got.includes('\r\n\r\n') && !got.includes('echo')) sock.write('hello')
    })
    await expect.poll(() => got, { timeout: 3000 }).toContain('echo:hello|/ws')
    expect(got).toMatch(/^HTTP\/1\.1 101 /)
    expect(got.toLowerCase()).toContain('upgrade: websocket')
    sock.destroy()
    // The client going away closes the upstream side too.
    await expect.poll(() => upstreamEnded).toBe(true)
    await proxy.close()
    await new Promise<void>((r) => server.close(() => r()))
  })
})
