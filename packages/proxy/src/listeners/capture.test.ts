// The capture listeners without iptables: the original destination is injected, everything else
// (sniffing, dispatch by original destination, TCP and HTTP paths, inbound policy, peer
// metadata, metrics on both sides of two sidecars) runs for real on loopback.
import http from 'node:http'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { InboundPolicy } from '../policy.ts'
import type { RunningProxy } from '../proxy.ts'
import { startTestProxy, startUpstream, type Upstream } from '../testdata/harness.ts'
import { DB_IP, POD_IP, REVIEWS_IP, sidecarConfig } from '../testdata/sidecar.ts'
import type { Destination } from './conn.ts'

function httpGet(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => {
        body += c
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** A TCP server: echoes with a prefix, or (banner) speaks first. */
async function tcpServer(kind: 'echo' | 'banner'): Promise<{ port: number; server: net.Server }> {
  const server = net.createServer((s) => {
    if (kind === 'banner') s.write('220 hello\r\n')
    s.on('data', (d: Buffer) => s.write(`echo:${d}`))
    s.on('error', () => {})
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { port: (server.address() as net.AddressInfo).port, server }
}

function tcpExchange(port: number, send: string | undefined, until: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => {
      if (send !== undefined) s.write(send)
    })
    let got = ''
    s.on('data', (d: Buffer) => {
      got += d
      if (got.includes(until)) {
        s.destroy()
        resolve(got)
      }
    })
    s.on('error', reject)
    s.on('close', () => reject(new Error(`closed, got ${JSON.stringify(got)}`)))
    setTimeout(() => {
      s.destroy()
      reject(new Error(`timeout, got ${JSON.stringify(got)}`))
    }, 3000)
  })
}

describe('sidecar capture listeners', () => {
  let reviews: Upstream
  let app: Upstream
  let echo: { port: number; server: net.Server }
  let banner: { port: number; server: net.Server }
  let client: RunningProxy
  let dst: Destination = { address: '127.0.0.1', port: 1 }
  const denyPolicy: InboundPolicy = {
    check: async (info) =>
      info.path.startsWith('/denied')
        ? {
            allow: false,
            status: 429,
            body: `quota exceeded for ${info.source?.workload ?? 'unknown'}`,
            flag: 'RL',
          }
        : { allow: true },
  }

  beforeAll(async () => {
    reviews = await startUpstream('reviews')
    app = await startUpstream('app')
    echo = await tcpServer('echo')
    banner = await tcpServer('banner')
    client = await startTestProxy(
      sidecarConfig({
        reviews: [{ address: '127.0.0.1', port: reviews.port }],
        db: echo.port,
        app: app.port,
        httpPorts: [echo.port, banner.port],
      }),
      { originalDestination: () => dst, inboundPolicy: denyPolicy },
    )
  })
  afterAll(async () => {
    await client.close()
    await Promise.all([reviews.close(), app.close()])
    echo.server.close()
    banner.server.close()
  })

  const outbound = () => client.ports.listeners.virtualOutbound!
  const inbound = () => client.ports.listeners.virtualInbound!

  it('routes captured HTTP by the original port and Host, adding peer metadata', async () => {
    dst = { address: REVIEWS_IP, port: 9080 }
    const r = await httpGet(outbound(), '/reviews/1', { host: 'reviews:9080' })
    expect(r.status).toBe(200)
    expect(JSON.parse(r.body).name).toBe('reviews')
    const peer = JSON.parse(
      Buffer.from(String(reviews.seen.at(-1)!.headers['x-minimesh-peer']), 'base64url').toString(),
    )
    expect(peer).toEqual({
      workload: 'client',
      namespace: 'default',
      serviceAccount: 'default',
      labels: { app: 'client', version: 'v1' },
    })
    // Without a Host header match, the original IP picks the virtual host.
    const byIp = await httpGet(outbound(), '/x', { host: 'unknown-name' })
    expect(JSON.parse(byIp.body).name).toBe('reviews')
  })

  it('passes HTTP for an unknown destination straight through (PassthroughCluster)', async () => {
    dst = { address: '127.0.0.1', port: app.port }
    const r = await httpGet(outbound(), '/direct', { host: 'somewhere.example' })
    expect(JSON.parse(r.body).name).toBe('app')
    expect(app.seen.at(-1)?.url).toBe('/direct')
  })

  it('proxies TCP to the cluster of a TCP service address', async () => {
    dst = { address: DB_IP, port: 3306 }
    expect(await tcpExchange(outbound(), 'ping', 'echo:ping')).toBe('echo:ping')
  })

  it('sniffs non-HTTP bytes on an HTTP port and passes them through as TCP', async () => {
    dst = { address: '127.0.0.1', port: echo.port }
    expect(await tcpExchange(outbound(), '\x16\x03\x01binary', 'echo:')).toContain('echo:\x16\x03\x01binary')
  })

  it('lets a server-first protocol through after the sniffing timeout', async () => {
    dst = { address: '127.0.0.1', port: banner.port }
    expect(await tcpExchange(outbound(), undefined, '220 hello')).toContain('220 hello')
  })

  it('keeps routing a client of a known HTTP service that is slower than the sniffing timeout', async () => {
    // A loaded client can connect and write its request later than the sniff timeout: the
    // destination is a service address its routes know, so it still gets HTTP routing (passthrough
    // to the ClusterIP would reach an arbitrary endpoint, whatever the routes say).
    const request = 'GET /reviews/1 HTTP/1.1\r\nHost: reviews:9080\r\nConnection: close\r\n\r\n'
    const slow = (port: number) =>
      new Promise<string>((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () => setTimeout(() => s.write(request), 400))
        let got = ''
        s.on('data', (d: Buffer) => {
          got += d
        })
        s.on('error', reject)
        s.on('close', () => resolve(got))
      })
    dst = { address: REVIEWS_IP, port: 9080 }
    const outboundReply = await slow(outbound())
    expect(outboundReply).toMatch(/^HTTP\/1\.1 200/)
    expect(outboundReply).toContain('"name":"reviews"')
    dst = { address: POD_IP, port: 9080 }
    const inboundReply = await slow(inbound())
    expect(inboundReply).toMatch(/^HTTP\/1\.1 200/)
    expect(inboundReply).toContain('"name":"app"')
  })

  it('refuses passthrough to itself instead of looping', async () => {
    dst = { address: '127.0.0.1', port: outbound() }
    await expect(tcpExchange(outbound(), 'x', 'never')).rejects.toThrow(/closed/)
  })

  it('inbound: forwards to the app, strips peer metadata, runs the policy hook', async () => {
    dst = { address: POD_IP, port: 9080 }
    const peer = Buffer.from(
      JSON.stringify({
        workload: 'productpage-v1',
        namespace: 'default',
        labels: { app: 'productpage', version: 'v1' },
      }),
    ).toString('base64url')
    const ok = await httpGet(inbound(), '/ratings/1', { host: 'ratings:9080', 'x-minimesh-peer': peer })
    expect(ok.status).toBe(200)
    expect(app.seen.at(-1)?.headers['x-minimesh-peer']).toBeUndefined()
    const before = app.seen.length
    const denied = await httpGet(inbound(), '/denied', { host: 'ratings:9080', 'x-minimesh-peer': peer })
    expect(denied).toEqual({ status: 429, body: 'quota exceeded for productpage-v1' })
    expect(app.seen.length).toBe(before)
    expect(client.accessLog.recent.at(-1)).toMatchObject({
      response_code: 429,
      response_flags: 'RL',
      direction: 'inbound',
    })
    const metrics = await (await fetch(`http://127.0.0.1:${client.ports.stats}/stats/prometheus`)).text()
    expect(metrics).toMatch(
      /minimesh_requests_total\{reporter="destination",source_workload="productpage-v1",source_version="v1",destination_service="inbound\|9080\|\|",destination_workload="client",destination_version="v1",response_code="429",response_flags="RL",source_principal="unknown",destination_principal="unknown",connection_security_policy="none"\} 1/,
    )
  })

  it('inbound: a port without a chain passes through to the original destination', async () => {
    dst = { address: '127.0.0.1', port: echo.port }
    expect(await tcpExchange(inbound(), 'in', 'echo:in')).toBe('echo:in')
  })
})

describe('two sidecars', () => {
  it('client sidecar → server sidecar → app, with metrics on both sides', async () => {
    const app = await startUpstream('reviews-app')
    const server = await startTestProxy(sidecarConfig({ reviews: [], db: 1, app: app.port }), {
      originalDestination: () => ({ address: POD_IP, port: 9080 }),
      identity: { workload: 'reviews-v2', namespace: 'default', labels: { app: 'reviews', version: 'v2' } },
    })
    const client = await startTestProxy(
      sidecarConfig({
        reviews: [{ address: '127.0.0.1', port: server.ports.listeners.virtualInbound! }],
        db: 1,
        app: 1,
      }),
      {
        originalDestination: () => ({ address: REVIEWS_IP, port: 9080 }),
        identity: {
          workload: 'productpage-v1',
          namespace: 'default',
          labels: { app: 'productpage', version: 'v1' },
        },
      },
    )
    const r = await httpGet(client.ports.listeners.virtualOutbound!, '/reviews/0', { host: 'reviews:9080' })
    expect(r.status).toBe(200)
    expect(app.seen.at(-1)?.headers['x-minimesh-peer']).toBeUndefined()
    const clientMetrics = await (
      await fetch(`http://127.0.0.1:${client.ports.stats}/stats/prometheus`)
    ).text()
    expect(clientMetrics).toContain(
      'minimesh_requests_total{reporter="source",source_workload="productpage-v1",source_version="v1",destination_service="reviews.default.svc.cluster.local",destination_workload="reviews-v2",destination_version="v2",response_code="200",response_flags="-",source_principal="unknown",destination_principal="unknown",connection_security_policy="unknown"} 1',
    )
    const serverMetrics = await (
      await fetch(`http://127.0.0.1:${server.ports.stats}/stats/prometheus`)
    ).text()
    expect(serverMetrics).toContain(
      'minimesh_requests_total{reporter="destination",source_workload="productpage-v1",source_version="v1",destination_service="inbound|9080||",destination_workload="reviews-v2",destination_version="v2",response_code="200",response_flags="-",source_principal="unknown",destination_principal="unknown",connection_security_policy="none"} 1',
    )
    expect(serverMetrics).toMatch(
      /minimesh_request_duration_milliseconds_bucket\{le="5",reporter="destination"/,
    )
    await client.close()
    await server.close()
    await app.close()
  })
})
