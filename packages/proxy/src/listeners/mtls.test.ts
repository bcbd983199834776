// Mesh mTLS between two sidecars over real TLS sockets (testdata/mtls-sidecars.ts): PeerAuthentication
// modes on the server's chains, auto mTLS and DestinationRule tls on the client's cluster,
// identities checked both ways, principals in metrics and the access log. gRPC, TCP, WebSocket and
// certificate rotation over mTLS: mtls-protocols.test.ts.
import net from 'node:net'
import tls from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestMeshCa } from '../testdata/mesh-ca.ts'
import {
  app,
  ca,
  certFor,
  clientSidecar,
  httpGet,
  metrics,
  PRODUCTPAGE,
  REVIEWS,
  REVIEWS_SA,
  rawExchange,
  serverSidecar,
  useMtlsMesh,
  viaClient,
} from '../testdata/mtls-sidecars.ts'
import { POD_IP } from '../testdata/sidecar.ts'
import type { Destination } from './conn.ts'

useMtlsMesh()

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
