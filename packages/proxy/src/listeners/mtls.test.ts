// Mesh mTLS between two sidecars over real TLS sockets: a client sidecar (productpage) sends to a
// server sidecar's inbound capture port (reviews), with workload certificates from a test mesh
// CA. PeerAuthentication modes on the server's chains, auto mTLS and DestinationRule tls on the
// client's cluster, identities checked both ways, principals in metrics and the access log, gRPC
// and TCP over mTLS, and certificate rotation under traffic.
import http from 'node:http'
import net from 'node:net'
import tls from 'node:tls'
import type { Cluster, FilterChain, LbEndpoint } from '@minimesh/api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { StaticConfig } from '../config/validate.ts'
import { CertificateStore, type WorkloadCertificate } from '../identity/certificates.ts'
import type { RunningProxy } from '../proxy.ts'
import { echoClient, startEchoServer } from '../testdata/grpc.ts'
import { startTestProxy, startUpstream, type Upstream } from '../testdata/harness.ts'
import { createTestMeshCa, type TestMeshCa } from '../testdata/mesh-ca.ts'
import { DB_IP, POD_IP, REVIEWS_IP, sidecarConfig } from '../testdata/sidecar.ts'
import type { Destination } from './conn.ts'

type Mode = NonNullable<FilterChain['mtls']>['mode']
const REVIEWS = 'outbound|9080||reviews.default.svc.cluster.local'
const DB = 'outbound|3306||db.default.svc.cluster.local'
const PRODUCTPAGE = 'cluster.local/ns/default/sa/bookinfo-productpage'
const REVIEWS_SA = 'cluster.local/ns/default/sa/bookinfo-reviews'

function httpGet(port: number, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
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

const viaClient = (client: RunningProxy, path = '/r') =>
  httpGet(client.ports.listeners.virtualOutbound!, path, { host: 'reviews:9080' })

/** What a raw client gets from a port: an HTTP answer, or the connection closed without one. */
function rawExchange(socket: net.Socket, send: string): Promise<string> {
  return new Promise((resolve) => {
    let got = ''
    socket.on('data', (d: Buffer) => {
      got += d
    })
    socket.on('error', () => resolve(`closed:${got}`))
    socket.on('close', () => resolve(`closed:${got}`))
    socket.write(send)
    setTimeout(() => {
      socket.destroy()
      resolve(`timeout:${got}`)
    }, 3000)
  })
}

const metrics = async (p: RunningProxy) =>
  (await fetch(`http://127.0.0.1:${p.ports.stats}/stats/prometheus`)).text()

let ca: TestMeshCa
let app: Upstream
const certFor = (sa: string) => ca.issue('default', sa)

/** The server sidecar (reviews): its inbound chains take `mode`; the original destination follows `dst`. */
async function serverSidecar(
  mode: Mode | undefined,
  opts: {
    cert?: WorkloadCertificate | undefined
    dst?: () => Destination
    edit?: (c: StaticConfig) => void
  } = {},
) {
  const certs = new CertificateStore()
  const cert = 'cert' in opts ? opts.cert : await certFor('bookinfo-reviews')
  if (cert) certs.set(cert)
  const config = sidecarConfig({ reviews: [], db: 1, app: app.port })
  const inbound = config.listeners!.find((l) => l.name === 'virtualInbound')!
  if (mode) {
    for (const c of inbound.filterChains) c.mtls = { mode }
    inbound.defaultFilterChain!.mtls = { mode }
  }
  opts.edit?.(config)
  const proxy = await startTestProxy(config, {
    certificates: certs,
    originalDestination: opts.dst ?? (() => ({ address: POD_IP, port: 9080 })),
    identity: { workload: 'reviews-v2', namespace: 'default', labels: { app: 'reviews', version: 'v2' } },
  })
  return { proxy, certs, port: proxy.ports.listeners.virtualInbound! }
}

/** The client sidecar (productpage): reviews endpoints as given, the reviews cluster changed by `cluster`. */
async function clientSidecar(
  endpoints: Partial<LbEndpoint>[],
  opts: {
    cert?: WorkloadCertificate | undefined
    cluster?: Partial<Cluster>
    edit?: (c: StaticConfig) => void
    dst?: () => Destination
  } = {},
) {
  const certs = new CertificateStore()
  const cert = 'cert' in opts ? opts.cert : await certFor('bookinfo-productpage')
  if (cert) certs.set(cert)
  const config = sidecarConfig({ reviews: [], db: 1, app: 1 })
  const cla = config.endpoints!.find((e) => e.clusterName === REVIEWS)!
  cla.endpoints = endpoints.map((e) => ({
    address: '127.0.0.1',
    port: 1,
    health: 'HEALTHY',
    labels: { app: 'reviews', version: 'v2' },
    workload: 'reviews-v2',
    namespace: 'default',
    serviceAccount: 'bookinfo-reviews',
    ...e,
  }))
  const c = config.clusters!.find((x) => x.name === REVIEWS)!
  Object.assign(c, opts.cluster ?? {})
  opts.edit?.(config)
  const proxy = await startTestProxy(config, {
    certificates: certs,
    originalDestination: opts.dst ?? (() => ({ address: REVIEWS_IP, port: 9080 })),
    identity: {
      workload: 'productpage-v1',
      namespace: 'default',
      labels: { app: 'productpage', version: 'v1' },
    },
  })
  return { proxy, certs }
}

beforeAll(async () => {
  ca = await createTestMeshCa({ intermediate: true })
  app = await startUpstream('reviews-app')
})
afterAll(async () => {
  await app.close()
})

describe('STRICT', () => {
  let server: Awaited<ReturnType<typeof serverSidecar>>
  let client: Awaited<ReturnType<typeof clientSidecar>>
  beforeAll(async () => {
    server = await serverSidecar('STRICT')
    client = await clientSidecar([{ port: server.port, tlsMode: 'istio' }])
  })
  afterAll(async () => {
    await client.proxy.close()
    await server.proxy.close()
  })

  it('serves mTLS from a sidecar: principals on both sides, in metrics and the access log', async () => {
    const r = await viaClient(client.proxy, '/strict')
    expect(r.status).toBe(200)
    expect(app.seen.at(-1)?.url).toBe('/strict')
    const sm = await metrics(server.proxy)
    expect(sm).toMatch(
      new RegExp(
        `minimesh_requests_total\\{reporter="destination",[^}]*response_code="200",response_flags="-",source_principal="${PRODUCTPAGE}",destination_principal="${REVIEWS_SA}",connection_security_policy="mutual_tls"\\} 1`,
      ),
    )
    const cm = await metrics(client.proxy)
    expect(cm).toMatch(
      new RegExp(
        `minimesh_requests_total\\{reporter="source",[^}]*response_code="200",response_flags="-",source_principal="${PRODUCTPAGE}",destination_principal="${REVIEWS_SA}",connection_security_policy="unknown"\\} 1`,
      ),
    )
    const inbound = server.proxy.accessLog.recent.at(-1)!
    expect(inbound).toMatchObject({
      direction: 'inbound',
      path: '/strict',
      downstream_peer_principal: PRODUCTPAGE,
      connection_security_policy: 'mutual_tls',
    })
    expect(client.proxy.accessLog.recent.at(-1)).toMatchObject({
      direction: 'outbound',
      upstream_peer_principal: REVIEWS_SA,
      connection_security_policy: 'none',
    })
  })

  it('closes a plaintext connection without an answer', async () => {
    const before = app.seen.length
    const got = await rawExchange(
      net.connect(server.port, '127.0.0.1'),
      'GET /plain HTTP/1.1\r\nhost: reviews\r\n\r\n',
    )
    expect(got).toBe('closed:')
    expect(app.seen.length).toBe(before)
    expect(await metrics(server.proxy)).toMatch(
      /minimesh_mtls_connections_refused_total\{reason="plaintext"\} [1-9]/,
    )
  })

  it('refuses TLS without a client certificate, and one from another CA', async () => {
    const other = await createTestMeshCa({ name: 'another root' })
    const foreign = await other.issue('default', 'bookinfo-productpage')
    for (const opts of [
      { ca: ca.rootPem },
      { ca: ca.rootPem, cert: foreign.certChainPem, key: foreign.keyPem },
    ]) {
      const socket = tls.connect({
        host: '127.0.0.1',
        port: server.port,
        ...opts,
        checkServerIdentity: () => undefined,
      })
      socket.on('error', () => {})
      const got = await rawExchange(socket, 'GET /nocert HTTP/1.1\r\nhost: reviews\r\n\r\n')
      expect(got).toBe('closed:')
    }
    expect(app.seen.some((s) => s.url === '/nocert')).toBe(false)
  })

  it('a TLS client with a mesh certificate is served HTTP/1.1 and HTTP/2 on the same port', async () => {
    const cert = await certFor('direct-client')
    const socket = tls.connect({
      host: '127.0.0.1',
      port: server.port,
      ca: ca.rootPem,
      cert: cert.certChainPem,
      key: cert.keyPem,
      checkServerIdentity: () => undefined,
    })
    const got = await rawExchange(
      socket,
      'GET /direct HTTP/1.1\r\nhost: reviews\r\nconnection: close\r\n\r\n',
    )
    expect(got).toMatch(/^closed:HTTP\/1\.1 200/)
    expect(server.proxy.accessLog.recent.at(-1)?.downstream_peer_principal).toBe(
      'cluster.local/ns/default/sa/direct-client',
    )
  })
})

describe('PERMISSIVE', () => {
  it('serves mTLS and plaintext on one port, each labelled as it came', async () => {
    const server = await serverSidecar('PERMISSIVE')
    const client = await clientSidecar([{ port: server.port, tlsMode: 'istio' }])
    expect((await viaClient(client.proxy, '/permissive-mtls')).status).toBe(200)
    expect((await httpGet(server.port, '/permissive-plain', { host: 'reviews' })).status).toBe(200)
    const sm = await metrics(server.proxy)
    expect(sm).toMatch(/reporter="destination",[^}]*connection_security_policy="mutual_tls"\} 1/)
    expect(sm).toMatch(
      /reporter="destination",[^}]*source_principal="unknown",destination_principal="unknown",connection_security_policy="none"\} 1/,
    )
    const log = server.proxy.accessLog.recent
    expect(log.find((e) => e.path === '/permissive-mtls')?.connection_security_policy).toBe('mutual_tls')
    expect(log.find((e) => e.path === '/permissive-plain')?.connection_security_policy).toBe('none')
    await client.proxy.close()
    await server.proxy.close()
  })

  it('without a certificate yet: the client sends plaintext (counted), the server passes TLS through', async () => {
    const server = await serverSidecar('PERMISSIVE', { cert: undefined })
    const client = await clientSidecar([{ port: server.port, tlsMode: 'istio' }], { cert: undefined })
    expect((await viaClient(client.proxy, '/nocert-yet')).status).toBe(200)
    expect(await metrics(client.proxy)).toMatch(
      /minimesh_upstream_rq_mtls_no_certificate_total\{cluster_name="outbound\|9080\|\|reviews\.default\.svc\.cluster\.local"\} 1/,
    )
    expect(server.proxy.accessLog.recent.at(-1)?.connection_security_policy).toBe('none')
    // The certificate arrives: the next request goes over mTLS.
    client.certs.set(await certFor('bookinfo-productpage'))
    server.certs.set(await certFor('bookinfo-reviews'))
    expect((await viaClient(client.proxy, '/cert-now')).status).toBe(200)
    expect(server.proxy.accessLog.recent.at(-1)).toMatchObject({
      path: '/cert-now',
      downstream_peer_principal: PRODUCTPAGE,
    })
    await client.proxy.close()
    await server.proxy.close()
  })
})

describe('PERMISSIVE: a server-first protocol', () => {
  it("a client that sends nothing gets the app's banner (TCP) on an HTTP chain of no declared port", async () => {
    const banner = net.createServer((c) => {
      c.write('220 hello\r\n')
      c.on('error', () => {})
    })
    await new Promise<void>((r) => banner.listen(0, '127.0.0.1', r))
    const bannerPort = (banner.address() as net.AddressInfo).port
    const server = await serverSidecar('PERMISSIVE', {
      dst: () => ({ address: '127.0.0.1', port: bannerPort }),
      edit: (c) => {
        c.listeners!.find((l) => l.name === 'virtualInbound')!.filterChains.push({
          // No port match: not a port the workload declares HTTP (there a quiet client is waited for).
          name: 'http-any-port',
          http: { cluster: 'inbound|9080||' },
          mtls: { mode: 'PERMISSIVE' },
        })
      },
    })
    const got = await new Promise<string>((resolve, reject) => {
      const s = net.connect(server.port, '127.0.0.1')
      s.on('data', (d: Buffer) => {
        resolve(`${d}`)
        s.destroy()
      })
      s.on('error', reject)
    })
    expect(got).toBe('220 hello\r\n')
    await server.proxy.close()
    banner.close()
  })
})

describe('DISABLE', () => {
  it('takes plaintext, and passes a TLS ClientHello through to the app untouched', async () => {
    // A TLS app behind the passthrough chain, with a certificate of its own (not the mesh's).
    const appCert = await ca.issue('default', 'tls-app', { dnsNames: ['tls-app'] })
    const tlsApp = tls.createServer({ cert: appCert.certChainPem, key: appCert.keyPem }, (s) => {
      s.end('hello from the app over its own TLS')
    })
    await new Promise<void>((r) => tlsApp.listen(0, '127.0.0.1', r))
    const tlsPort = (tlsApp.address() as net.AddressInfo).port
    let dst: Destination = { address: POD_IP, port: 9080 }
    const server = await serverSidecar('DISABLE', { dst: () => dst })
    expect((await httpGet(server.port, '/disable-plain', { host: 'reviews' })).status).toBe(200)
    dst = { address: '127.0.0.1', port: tlsPort }
    const got = await new Promise<{ text: string; san: string | undefined }>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: server.port, ca: ca.rootPem, servername: 'tls-app' })
      let text = ''
      s.on('data', (d: Buffer) => {
        text += d
      })
      s.on('end', () => resolve({ text, san: s.getPeerCertificate().subjectaltname }))
      s.on('error', reject)
    })
    expect(got.text).toBe('hello from the app over its own TLS')
    expect(got.san).toContain('spiffe://cluster.local/ns/default/sa/tls-app')
    await server.proxy.close()
    tlsApp.close()
  })
})

describe('client side: auto mTLS and DestinationRule tls', () => {
  let strict: Awaited<ReturnType<typeof serverSidecar>>
  beforeAll(async () => {
    strict = await serverSidecar('STRICT')
  })
  afterAll(async () => {
    await strict.proxy.close()
  })

  it('auto mTLS: mTLS to the sidecar endpoint, plaintext to the one without', async () => {
    const client = await clientSidecar([
      { port: strict.port, tlsMode: 'istio' },
      { port: app.port, workload: 'no-sidecar' },
    ])
    const before = app.seen.length
    const answers = await Promise.all([1, 2, 3, 4].map((i) => viaClient(client.proxy, `/auto/${i}`)))
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200])
    expect(app.seen.length - before).toBe(4)
    const upstream = client.proxy.accessLog.recent.slice(-4).map((e) => e.upstream_peer_principal)
    expect(upstream.filter((p) => p === REVIEWS_SA)).toHaveLength(2)
    expect(upstream.filter((p) => p === null)).toHaveLength(2)
    const clusters = (await (
      await fetch(`http://127.0.0.1:${client.proxy.ports.admin}/clusters`)
    ).json()) as {
      name: string
      hosts: { port: number; mtls: string }[]
    }[]
    const hosts = clusters.find((c) => c.name === REVIEWS)!.hosts
    expect(hosts.map((h) => [h.port, h.mtls])).toEqual([
      [strict.port, 'mutual_tls'],
      [app.port, 'none'],
    ])
    await client.proxy.close()
  })

  it('DestinationRule DISABLE forces plaintext even to a sidecar endpoint (STRICT refuses it)', async () => {
    const client = await clientSidecar([{ port: strict.port, tlsMode: 'istio' }], {
      cluster: { tls: { mode: 'DISABLE' } },
    })
    const r = await viaClient(client.proxy, '/dr-disable')
    expect(r.status).toBe(503)
    expect(client.proxy.accessLog.recent.at(-1)?.response_flags).toContain('UF')
    await client.proxy.close()
  })

  it('ISTIO_MUTUAL: mTLS to an endpoint without tlsMode', async () => {
    const client = await clientSidecar([{ port: strict.port }], {
      cluster: { tls: { mode: 'ISTIO_MUTUAL' } },
    })
    expect((await viaClient(client.proxy, '/istio-mutual')).status).toBe(200)
    expect(strict.proxy.accessLog.recent.at(-1)).toMatchObject({
      path: '/istio-mutual',
      downstream_peer_principal: PRODUCTPAGE,
    })
    await client.proxy.close()
  })

  it('refuses a server whose identity is not the endpoint service account; subjectAltNames override it', async () => {
    const wrong = await clientSidecar([{ port: strict.port, tlsMode: 'istio', serviceAccount: 'ratings' }])
    const r = await viaClient(wrong.proxy, '/wrong-san')
    expect(r.status).toBe(503)
    expect(r.body).toMatch(/TLS error: ERR_TLS_CERT_ALTNAME_INVALID/)
    expect(strict.proxy.accessLog.recent.some((e) => e.path === '/wrong-san')).toBe(false)
    await wrong.proxy.close()
    const named = await clientSidecar([{ port: strict.port, serviceAccount: 'ratings' }], {
      cluster: {
        tls: {
          mode: 'ISTIO_MUTUAL',
          subjectAltNames: ['spiffe://cluster.local/ns/default/sa/bookinfo-reviews'],
        },
      },
    })
    expect((await viaClient(named.proxy, '/named-san')).status).toBe(200)
    await named.proxy.close()
  })
})

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
