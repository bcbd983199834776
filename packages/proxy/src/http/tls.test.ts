// TLS origination (DestinationRule tls: SIMPLE, MUTUAL) against real node:https upstreams with
// throwaway certificates: verification by CA and subject alt names, SNI, client certificates,
// handshake failures as 503 UF, a missing file rejecting the configuration, and the TCP proxy.
import { readFileSync } from 'node:fs'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import net from 'node:net'
import tls from 'node:tls'
import type { Cluster, Route } from '@minimesh/api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningProxy } from '../proxy.ts'
import { type CertDir, certDir, opensslMissing } from '../testdata/certs.ts'
import { call, cluster, endpoints, gatewayConfig, gatewayPort, startTestProxy } from '../testdata/harness.ts'

const HOST = 'reviews.default.svc.cluster.local'
const SERVICE = { host: HOST, name: 'reviews', namespace: 'default', port: 9080 }

interface Seen {
  servername: string | false | null
  alpn: string | false | null
  /** CN of the client certificate, if one was presented. */
  clientCn: string | undefined
}

interface TlsUpstream {
  port: number
  seen: Seen[]
  close(): Promise<void>
}

async function httpsUpstream(options: https.ServerOptions): Promise<TlsUpstream> {
  const seen: Seen[] = []
  const server = https.createServer(options, (req, res) => {
    const s = req.socket as tls.TLSSocket
    const cn = s.getPeerCertificate()?.subject?.CN
    seen.push({
      servername: s.servername,
      alpn: s.alpnProtocol,
      clientCn: Array.isArray(cn) ? cn.join(',') : cn,
    })
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`secure:${req.url}`)
  })
  server.on('tlsClientError', () => {})
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}

const missing = opensslMissing()

describe.skipIf(missing !== undefined)(`TLS origination${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let certs: CertDir
  let simple: TlsUpstream
  let mutual: TlsUpstream
  let proxy: RunningProxy
  let port: number
  /** path prefix → cluster, all in one proxy. */
  let clusters: Record<string, Cluster>
  const config = (cs: Record<string, Cluster>) => {
    const routes: Route[] = Object.entries(cs).map(([prefix, c]) => ({
      match: { path: { prefix: `/${prefix}` } },
      route: { clusters: [{ name: c.name, weight: 1 }] },
    }))
    return gatewayConfig(
      routes,
      Object.values(cs),
      Object.values(cs).map((c) =>
        endpoints(c.name, [{ port: c.name.startsWith('mtls') ? mutual.port : simple.port }]),
      ),
    )
  }
  const tlsCluster = (name: string, t: NonNullable<Cluster['tls']>) =>
    cluster(name, { service: SERVICE, tls: t })
  const last = () => proxy.accessLog.recent.at(-1)

  beforeAll(async () => {
    certs = certDir()
    certs.ca('mesh-ca')
    certs.ca('other-ca')
    certs.leaf('server', 'mesh-ca', 'reviews', [
      `DNS:${HOST}`,
      'URI:spiffe://cluster.local/ns/default/sa/reviews',
    ])
    certs.leaf('client', 'other-ca', 'productpage-client', ['DNS:productpage.default.svc.cluster.local'])
    const read = (p: string) => readFileSync(p)
    simple = await httpsUpstream({ cert: read(certs.pem('server')), key: read(certs.key('server')) })
    mutual = await httpsUpstream({
      cert: read(certs.pem('server')),
      key: read(certs.key('server')),
      ca: read(certs.pem('other-ca')),
      requestCert: true,
      rejectUnauthorized: true,
    })
    const ca = certs.pem('mesh-ca')
    clusters = {
      simple: tlsCluster('simple', { mode: 'SIMPLE', caCertificates: ca }),
      wrongca: tlsCluster('wrongca', { mode: 'SIMPLE', caCertificates: certs.pem('other-ca') }),
      sanbad: tlsCluster('sanbad', {
        mode: 'SIMPLE',
        caCertificates: ca,
        subjectAltNames: ['ratings.default.svc.cluster.local'],
      }),
      sanok: tlsCluster('sanok', {
        mode: 'SIMPLE',
        caCertificates: ca,
        sni: 'reviews.example.internal',
        subjectAltNames: [
          'spiffe://cluster.local/ns/default/sa/other',
          'spiffe://cluster.local/ns/default/sa/reviews',
        ],
      }),
      sniname: tlsCluster('sniname', { mode: 'SIMPLE', caCertificates: ca, sni: 'reviews.example.internal' }),
      insecure: tlsCluster('insecure', {
        mode: 'SIMPLE',
        caCertificates: certs.pem('other-ca'),
        insecureSkipVerify: true,
      }),
      plain: cluster('plain', { service: SERVICE }),
      mtlsok: tlsCluster('mtls-ok', {
        mode: 'MUTUAL',
        caCertificates: ca,
        clientCertificate: certs.pem('client'),
        privateKey: certs.key('client'),
      }),
      mtlsnocert: tlsCluster('mtls-nocert', { mode: 'SIMPLE', caCertificates: ca }),
    }
    proxy = await startTestProxy(config(clusters))
    port = gatewayPort(proxy)
  })

  afterAll(async () => {
    await proxy?.close()
    await simple?.close()
    await mutual?.close()
    certs?.remove()
  })

  it('SIMPLE with the right CA: 200 over TLS, SNI the service host, ALPN http/1.1', async () => {
    const before = simple.seen.length
    const r = await call(port, '/simple/a')
    expect(r.status).toBe(200)
    expect(r.text).toBe('secure:/simple/a')
    expect(simple.seen.slice(before)).toEqual([{ servername: HOST, alpn: 'http/1.1', clientCn: undefined }])
    // A second request reuses the connection, whatever the Host header says.
    const r2 = await call(port, '/simple/b', { headers: { host: 'reviews:9080' } })
    expect(r2.status).toBe(200)
    expect(proxy.store.clusterStats.get('simple')?.upstream_cx_total).toBe(1)
  })

  it('a cluster without tls stays plaintext (so the TLS port refuses it)', async () => {
    const r = await call(port, '/plain')
    expect(r.status).toBe(503)
  })

  it('the wrong CA: 503 UF, counted as a connect failure', async () => {
    const r = await call(port, '/wrongca')
    expect(r.status).toBe(503)
    expect(r.text).toMatch(/reset reason: connection failure, transport failure reason: TLS error: /)
    expect(last()?.response_flags).toBe('UF')
    expect(proxy.store.clusterStats.get('wrongca')?.upstream_cx_connect_fail).toBeGreaterThanOrEqual(1)
    expect(proxy.store.current.clusters.get('wrongca')?.hosts[0]?.errors).toBe(1)
  })

  it('subjectAltNames that the certificate does not carry: 503 UF', async () => {
    const r = await call(port, '/sanbad')
    expect(r.status).toBe(503)
    expect(r.text).toContain('ERR_TLS_CERT_ALTNAME_INVALID')
    expect(last()?.response_flags).toBe('UF')
  })

  it('subjectAltNames one of which the certificate carries (a URI SAN), with its own sni: 200', async () => {
    const before = simple.seen.length
    const r = await call(port, '/sanok')
    expect(r.status).toBe(200)
    expect(simple.seen[before]?.servername).toBe('reviews.example.internal')
  })

  it('sni without subjectAltNames: the certificate must carry the sni name', async () => {
    const r = await call(port, '/sniname')
    expect(r.status).toBe(503)
    expect(r.text).toContain('ERR_TLS_CERT_ALTNAME_INVALID')
  })

  it('insecureSkipVerify: an untrusted certificate is accepted', async () => {
    expect((await call(port, '/insecure')).status).toBe(200)
  })

  it('MUTUAL: the upstream that requires client certificates gets ours', async () => {
    const before = mutual.seen.length
    const r = await call(port, '/mtlsok')
    expect(r.status).toBe(200)
    expect(mutual.seen.slice(before)).toEqual([
      { servername: HOST, alpn: 'http/1.1', clientCn: 'productpage-client' },
    ])
  })

  it('no client certificate for an upstream that requires one: 503 UF, a connect failure', async () => {
    const r = await call(port, '/mtlsnocert')
    expect(r.status).toBe(503)
    expect(last()?.response_flags).toBe('UF')
    expect(r.text).toContain('TLS error: ERR_SSL_')
    expect(proxy.store.clusterStats.get('mtls-nocert')?.upstream_cx_connect_fail).toBeGreaterThanOrEqual(1)
  })

  it('a missing CA file rejects the configuration, naming cluster and field; the last good one serves on', async () => {
    const serial = proxy.store.current.serial
    const broken = {
      ...clusters,
      simple: tlsCluster('simple', { mode: 'SIMPLE', caCertificates: `${certs.dir}/nope.pem` }),
    }
    await expect(proxy.reload(config(broken))).rejects.toThrow(
      `Cluster simple: tls.caCertificates: cannot read ${certs.dir}/nope.pem`,
    )
    expect(proxy.store.current.serial).toBe(serial)
    expect((await call(port, '/simple/still')).status).toBe(200)
  })

  it('a private key that is not the client certificate’s rejects the configuration', async () => {
    const broken = {
      ...clusters,
      mtlsok: tlsCluster('mtls-ok', {
        mode: 'MUTUAL',
        clientCertificate: certs.pem('client'),
        privateKey: certs.key('server'),
      }),
    }
    await expect(proxy.reload(config(broken))).rejects.toThrow(/^Cluster mtls-ok: tls\.privateKey: /)
    expect((await call(port, '/mtlsok')).status).toBe(200)
  })

  it('/clusters shows each cluster’s tls mode', async () => {
    const res = await fetch(`http://127.0.0.1:${proxy.ports.admin}/clusters`)
    const list = (await res.json()) as { name: string; tls: string }[]
    const mode = (n: string) => list.find((c) => c.name === n)?.tls
    expect([mode('simple'), mode('mtls-ok'), mode('plain')]).toEqual(['SIMPLE', 'MUTUAL', 'DISABLE'])
  })
})

describe.skipIf(missing !== undefined)('TLS origination on the TCP proxy', () => {
  it('a tcp chain to a cluster with tls speaks TLS to the upstream (bytes both ways)', async () => {
    const certs = certDir()
    certs.ca('ca')
    certs.leaf('server', 'ca', 'db', ['DNS:db.default.svc.cluster.local'])
    const got: string[] = []
    const server = tls.createServer(
      { cert: readFileSync(certs.pem('server')), key: readFileSync(certs.key('server')) },
      (s) => {
        got.push(String(s.servername))
        s.on('data', (d: Buffer) => s.write(`tls-echo:${d}`))
        s.on('error', () => {})
      },
    )
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const upPort = (server.address() as AddressInfo).port
    const db = cluster('db', {
      protocol: 'tcp',
      service: { host: 'db.default.svc.cluster.local', name: 'db', namespace: 'default', port: 5432 },
      tls: { mode: 'SIMPLE', caCertificates: certs.pem('ca') },
    })
    const proxy = await startTestProxy({
      listeners: [
        {
          name: '0.0.0.0_8080',
          trafficDirection: 'GATEWAY',
          address: '0.0.0.0',
          port: 8080,
          bindToPort: true,
          filterChains: [{ name: 'tcp', tcp: { cluster: 'db' } }],
        },
      ],
      clusters: [db],
      endpoints: [endpoints('db', [{ port: upPort }])],
    })
    try {
      const reply = await new Promise<string>((resolve, reject) => {
        const s = net.connect(gatewayPort(proxy), '127.0.0.1', () => s.write('ping'))
        s.on('data', (d: Buffer) => {
          s.destroy()
          resolve(String(d))
        })
        s.on('error', reject)
        setTimeout(() => reject(new Error('timeout')), 3000)
      })
      expect(reply).toBe('tls-echo:ping')
      expect(got).toEqual(['db.default.svc.cluster.local'])
    } finally {
      await proxy.close()
      await new Promise<void>((r) => server.close(() => r()))
      certs.remove()
    }
  })
})
