// gRPC, TCP and WebSocket between two sidecars over mesh mTLS, and certificate rotation under
// traffic (testdata/mtls-sidecars.ts); the PeerAuthentication modes and client-side tls settings
// are in mtls.test.ts.
import http from 'node:http'
import net from 'node:net'
import { describe, expect, it } from 'vitest'
import { echoClient, startEchoServer } from '../testdata/grpc.ts'
import {
  certFor,
  clientSidecar,
  DB,
  PRODUCTPAGE,
  REVIEWS_SA,
  serverSidecar,
  useMtlsMesh,
  viaClient,
} from '../testdata/mtls-sidecars.ts'
import { DB_IP, POD_IP } from '../testdata/sidecar.ts'

useMtlsMesh()

describe('gRPC and TCP over mTLS', () => {
  it('gRPC (HTTP/2, ALPN h2) from sidecar to sidecar', async () => {
    const echo = await startEchoServer('reviews-grpc')
    const server = await serverSidecar('STRICT', {
      edit: (c) => {
        const inbound = c.clusters!.find((x) => x.name === 'inbound|9080||')!
        inbound.protocol = 'http2'
        inbound.loadAssignment!.endpoints[0]!.port = echo.port
      },
    })
    const client = await clientSidecar([{ port: server.port, tlsMode: 'istio' }], {
      cluster: { protocol: 'http2' },
      edit: (c) => {
        c.routes!.find((r) => r.name === '9080')!.virtualHosts[0]!.domains.push('*')
      },
    })
    const grpcClient = echoClient(client.proxy.ports.listeners.virtualOutbound!)
    const r = await grpcClient.call('Say', 'over-mtls')
    expect(r.error).toBeUndefined()
    expect(r.response?.toString()).toBe('reviews-grpc:over-mtls')
    expect(server.proxy.accessLog.recent.at(-1)).toMatchObject({
      protocol: 'HTTP/2',
      downstream_peer_principal: PRODUCTPAGE,
      connection_security_policy: 'mutual_tls',
    })
    grpcClient.close()
    await client.proxy.close()
    await server.proxy.close()
    await echo.close()
  })

  it('TCP from sidecar to sidecar (ALPN minimesh), with the principal in the inbound access log', async () => {
    const db = net.createServer((s) => {
      s.on('data', (d: Buffer) => s.write(`echo:${d}`))
      s.on('error', () => {})
    })
    await new Promise<void>((r) => db.listen(0, '127.0.0.1', r))
    const dbPort = (db.address() as net.AddressInfo).port
    const server = await serverSidecar('STRICT', {
      dst: () => ({ address: POD_IP, port: 3306 }),
      edit: (c) => {
        c.listeners!.find((l) => l.name === 'virtualInbound')!.filterChains.push({
          name: 'inbound|3306',
          match: { destinationPort: 3306 },
          tcp: { cluster: 'inbound|3306||' },
          mtls: { mode: 'STRICT' },
        })
        c.clusters!.push({
          name: 'inbound|3306||',
          type: 'STATIC',
          protocol: 'tcp',
          lbPolicy: 'ROUND_ROBIN',
          connectTimeoutMs: 1000,
          loadAssignment: {
            clusterName: 'inbound|3306||',
            endpoints: [{ address: '127.0.0.1', port: dbPort, health: 'HEALTHY' }],
          },
        })
      },
    })
    const client = await clientSidecar([], {
      dst: () => ({ address: DB_IP, port: 3306 }),
      edit: (c) => {
        c.endpoints!.find((e) => e.clusterName === DB)!.endpoints = [
          {
            address: '127.0.0.1',
            port: server.port,
            health: 'HEALTHY',
            tlsMode: 'istio',
            namespace: 'default',
            serviceAccount: 'bookinfo-reviews',
          },
        ]
      },
    })
    const got = await new Promise<string>((resolve, reject) => {
      const s = net.connect(client.proxy.ports.listeners.virtualOutbound!, '127.0.0.1', () => s.write('ping'))
      s.on('data', (d: Buffer) => {
        if (`${d}`.includes('echo:ping')) {
          resolve(`${d}`)
          s.end()
        }
      })
      s.on('error', reject)
    })
    expect(got).toBe('echo:ping')
    await new Promise((r) => setTimeout(r, 100))
    expect(server.proxy.accessLog.recent.at(-1)).toMatchObject({
      protocol: 'TCP',
      downstream_peer_principal: PRODUCTPAGE,
      connection_security_policy: 'mutual_tls',
    })
    expect(client.proxy.accessLog.recent.at(-1)).toMatchObject({
      protocol: 'TCP',
      upstream_peer_principal: REVIEWS_SA,
    })
    await client.proxy.close()
    await server.proxy.close()
    db.close()
  })
})

describe('WebSocket over mTLS', () => {
  it('an Upgrade goes through both sidecars and the tunnel carries bytes both ways', async () => {
    const ws = http.createServer((_req, res) => res.end('not an upgrade'))
    ws.on('upgrade', (_req, socket: net.Socket) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n')
      // One echo, then the app ends the tunnel (and both sidecars log it).
      socket.on('data', (d: Buffer) => socket.end(`echo:${d}`))
      socket.on('error', () => socket.destroy())
    })
    await new Promise<void>((r) => ws.listen(0, '127.0.0.1', r))
    const wsPort = (ws.address() as net.AddressInfo).port
    const server = await serverSidecar('STRICT', {
      edit: (c) => {
        c.clusters!.find((x) => x.name === 'inbound|9080||')!.loadAssignment!.endpoints[0]!.port = wsPort
      },
    })
    const client = await clientSidecar([{ port: server.port, tlsMode: 'istio' }])
    const got = await new Promise<string>((resolve) => {
      const sock = net.connect(client.proxy.ports.listeners.virtualOutbound!, '127.0.0.1', () =>
        sock.write(
          'GET /chat HTTP/1.1\r\nHost: reviews:9080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
        ),
      )
      let text = ''
      let sent = false
      sock.on('data', (d: Buffer) => {
        text += d.toString('latin1')
        if (!sent && text.includes('\r\n\r\n')) {
          sent = true
          sock.write('ping')
        }
        if (text.includes('echo:ping')) {
          sock.destroy()
          resolve(text)
        }
      })
      sock.on('error', () => resolve(text))
      setTimeout(() => {
        sock.destroy()
        resolve(text)
      }, 3000)
    })
    expect(got).toMatch(/^HTTP\/1\.1 101 /)
    expect(got).toContain('echo:ping')
    // The tunnel's access-log line is written when it closes.
    for (let i = 0; i < 100 && !server.proxy.accessLog.recent.some((e) => e.path === '/chat'); i++)
      await new Promise((r) => setTimeout(r, 20))
    expect(server.proxy.accessLog.recent.find((e) => e.path === '/chat')).toMatchObject({
      path: '/chat',
      downstream_peer_principal: PRODUCTPAGE,
      connection_security_policy: 'mutual_tls',
    })
    await client.proxy.close()
    await server.proxy.close()
    ws.closeAllConnections()
    ws.close()
  })
})

describe('certificate rotation', () => {
  it('loses no request while both sides rotate, and new connections use the new certificate', async () => {
    const server = await serverSidecar('STRICT')
    const client = await clientSidecar([{ port: server.port, tlsMode: 'istio' }])
    // Rotated certificates made beforehand (key generation is not what is measured).
    const rotated = await Promise.all(
      [1, 2, 3, 4, 5].map(async (i) => ({
        client: await certFor(i === 5 ? 'productpage-rotated' : 'bookinfo-productpage'),
        server: await certFor('bookinfo-reviews'),
      })),
    )
    // Four loops of requests; a rotation of both sides after every 8 answers, 16 more after the last.
    const statuses: number[] = []
    const total = rotated.length * 8 + 16
    const loops = [1, 2, 3, 4].map(async () => {
      while (statuses.length < total) statuses.push((await viaClient(client.proxy, '/rotate')).status)
    })
    for (const [i, r] of rotated.entries()) {
      while (statuses.length < (i + 1) * 8) await new Promise((res) => setTimeout(res, 2))
      client.certs.set(r.client)
      server.certs.set(r.server)
    }
    await Promise.all(loops)
    expect(statuses.length).toBeGreaterThanOrEqual(total)
    expect(statuses.filter((s) => s !== 200)).toEqual([])
    // The last client certificate carries another identity: the server saw it on new connections.
    const principals = new Set(server.proxy.accessLog.recent.map((e) => e.downstream_peer_principal))
    expect(principals).toContain('cluster.local/ns/default/sa/productpage-rotated')
    expect(principals).toContain(PRODUCTPAGE)
    await client.proxy.close()
    await server.proxy.close()
  })
})
