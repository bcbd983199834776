// Gateway TLS termination with real TLS sockets: SIMPLE and MUTUAL chains picked by SNI, ALPN h2,
// httpsRedirect's 301, Secret rotation (new connections get the new certificate, an open
// keep-alive connection keeps working) and refusals. Certificates from a throwaway test CA.
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import http2 from 'node:http2'
import https from 'node:https'
import tls from 'node:tls'
import type { Listener, Route, RouteConfiguration, Secret } from '@minimesh/api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { StaticConfig } from '../config/validate.ts'
import type { RunningProxy } from '../proxy.ts'
import { type CertDir, certDir, opensslMissing } from '../testdata/certs.ts'
import {
  call,
  cluster,
  endpoints,
  startTestProxy,
  startUpstream,
  type Upstream,
} from '../testdata/harness.ts'

const missing = opensslMissing()
const BOOKINFO = 'bookinfo.example.com'
const MTLS = 'mtls.example.com'

const toUpstream: Route[] = [
  { match: { path: { prefix: '/' } }, route: { clusters: [{ name: 'up', weight: 1 }] } },
]
const rc = (name: string, routes: Route[]): RouteConfiguration => ({
  name,
  virtualHosts: [{ name, domains: ['*'], routes }],
})

describe.skipIf(missing !== undefined)(`gateway TLS${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let certs: CertDir
  let upstream: Upstream
  let proxy: RunningProxy
  let port: number
  let plainPort: number
  const pem = (n: string) => readFileSync(certs.pem(n), 'utf8')
  const key = (n: string) => readFileSync(certs.key(n), 'utf8')
  const secret = (name: string, leaf: string, ca?: string): Secret => ({
    name,
    certificateChain: pem(leaf),
    privateKey: key(leaf),
    ...(ca ? { trustedCa: pem(ca) } : {}),
  })

  function config(bookinfoLeaf: string, extraChains: Listener['filterChains'] = []): StaticConfig {
    return {
      secrets: [
        secret('kubernetes://gw/bookinfo', bookinfoLeaf),
        secret('kubernetes://gw/mtls', 'mtls', 'ca'),
      ],
      listeners: [
        {
          name: '0.0.0.0_8443',
          trafficDirection: 'GATEWAY',
          address: '0.0.0.0',
          port: 8443,
          bindToPort: true,
          filterChains: [
            {
              name: 'https.bookinfo',
              match: { serverNames: [BOOKINFO] },
              tls: {
                mode: 'SIMPLE',
                secretName: 'kubernetes://gw/bookinfo',
                requireClientCertificate: false,
              },
              http: { routeConfigName: 'https.bookinfo' },
            },
            {
              name: 'https.mtls',
              match: { serverNames: [MTLS] },
              tls: {
                mode: 'MUTUAL',
                secretName: 'kubernetes://gw/mtls',
                requireClientCertificate: true,
                subjectAltNames: ['client.example.com'],
              },
              http: { routeConfigName: 'https.mtls' },
            },
            ...extraChains,
          ],
        },
        {
          name: '0.0.0.0_8080',
          trafficDirection: 'GATEWAY',
          address: '0.0.0.0',
          port: 8080,
          bindToPort: true,
          filterChains: [{ name: 'http', http: { routeConfigName: 'http.8080' } }],
        },
      ],
      routes: [
        rc('https.bookinfo', toUpstream),
        rc('https.mtls', toUpstream),
        rc('http.8080', [
          {
            name: 'https-redirect',
            match: { path: { prefix: '/' } },
            redirect: { scheme: 'https', code: 301 },
          },
        ]),
      ],
      clusters: [cluster('up')],
      endpoints: [endpoints('up', [{ port: upstream.port }])],
    }
  }

  beforeAll(async () => {
    certs = certDir()
    certs.ca('ca')
    certs.ca('other-ca')
    certs.leaf('bookinfo', 'ca', BOOKINFO, [`DNS:${BOOKINFO}`])
    certs.leaf('bookinfo-rotated', 'ca', BOOKINFO, [`DNS:${BOOKINFO}`])
    certs.leaf('mtls', 'ca', MTLS, [`DNS:${MTLS}`])
    certs.leaf('client', 'ca', 'client', ['DNS:client.example.com'])
    certs.leaf('stranger', 'ca', 'stranger', ['DNS:stranger.example.com'])
    certs.leaf('rogue', 'other-ca', 'client', ['DNS:client.example.com'])
    upstream = await startUpstream('up')
    proxy = await startTestProxy(config('bookinfo'), { portMap: { 8080: 0, 8443: 0 } })
    port = proxy.ports.listeners['0.0.0.0_8443']!
    plainPort = proxy.ports.listeners['0.0.0.0_8080']!
  })

  afterAll(async () => {
    await proxy?.close()
    await upstream?.close()
    certs?.remove()
  })

  /** One HTTPS GET; resolves with status, body and the server certificate's serial. */
  function get(
    servername: string,
    opts: { client?: string; agent?: https.Agent; path?: string } = {},
  ): Promise<{ status: number; body: string; serial: string; reused: boolean }> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port,
          path: opts.path ?? '/',
          servername,
          headers: { host: servername },
          ca: pem('ca'),
          ...(opts.client ? { cert: pem(opts.client), key: key(opts.client) } : {}),
          agent: opts.agent ?? false,
        },
        (res) => {
          const socket = res.socket as tls.TLSSocket
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => {
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString(),
              serial: socket.getPeerCertificate().serialNumber,
              reused: (req as unknown as { reusedSocket: boolean }).reusedSocket,
            })
          })
        },
      )
      req.on('error', reject)
      req.end()
    })
  }
  const serialOf = (leaf: string) => new X509Certificate(pem(leaf)).serialNumber

  it('SIMPLE: serves HTTPS with the Secret’s certificate and routes like plaintext', async () => {
    const r = await get(BOOKINFO)
    expect(r.status).toBe(200)
    expect(r.serial).toBe(serialOf('bookinfo'))
    const seen = JSON.parse(r.body) as { headers: Record<string, string> }
    expect(seen.headers['x-forwarded-proto']).toBe('https')
  })

  it('negotiates HTTP/2 by ALPN', async () => {
    const session = http2.connect(`https://127.0.0.1:${port}`, { servername: BOOKINFO, ca: pem('ca') })
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = session.request({ ':path': '/', ':authority': BOOKINFO })
        req.on('response', (h) => resolve(Number(h[':status'])))
        req.on('error', reject)
        req.resume()
        req.end()
      })
      expect(status).toBe(200)
      expect((session.socket as tls.TLSSocket).alpnProtocol).toBe('h2')
    } finally {
      session.close()
    }
  })

  it('SNI picks the certificate of the server the client names', async () => {
    const peer = (servername: string) =>
      new Promise<string>((resolve, reject) => {
        const s = tls.connect(
          { host: '127.0.0.1', port, servername, ca: pem('ca'), cert: pem('client'), key: key('client') },
          () => {
            resolve(s.getPeerCertificate().subject.CN as string)
            s.destroy()
          },
        )
        s.on('error', reject)
      })
    expect(await peer(BOOKINFO)).toBe(BOOKINFO)
    expect(await peer(MTLS)).toBe(MTLS)
  })

  it('MUTUAL: accepts a client certificate from the trusted CA with a wanted SAN', async () => {
    const r = await get(MTLS, { client: 'client' })
    expect(r.status).toBe(200)
    expect(r.serial).toBe(serialOf('mtls'))
  })

  it.each([
    ['no client certificate', undefined],
    ['a certificate from another CA', 'rogue'],
    ['a trusted certificate without a wanted SAN', 'stranger'],
  ])('MUTUAL: refuses %s', async (_name, client) => {
    await expect(get(MTLS, client ? { client } : {})).rejects.toThrow()
  })

  it('refuses plaintext and an SNI no server takes on the TLS port', async () => {
    await expect(call(port, '/')).rejects.toThrow()
    await expect(get('unknown.example.com')).rejects.toThrow()
  })

  it('httpsRedirect: a plaintext request gets a 301 to the same URL over https', async () => {
    const r = await call(plainPort, '/productpage?u=1', { headers: { host: BOOKINFO } })
    expect(r.status).toBe(301)
    expect(r.headers.location).toBe(`https://${BOOKINFO}/productpage?u=1`)
  })

  it('a rotated Secret is served on new connections; an open keep-alive connection keeps working', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const first = await get(BOOKINFO, { agent })
      expect(first.serial).toBe(serialOf('bookinfo'))
      await proxy.reload(config('bookinfo-rotated'))
      const fresh = await get(BOOKINFO)
      expect(fresh.serial).toBe(serialOf('bookinfo-rotated'))
      const again = await get(BOOKINFO, { agent })
      expect(again).toMatchObject({ status: 200, reused: true, serial: serialOf('bookinfo') })
    } finally {
      agent.destroy()
      await proxy.reload(config('bookinfo'))
    }
  })

  it('refuses (NACK) a chain naming a Secret it does not have, and a Secret whose key is not its certificate’s', async () => {
    const unknown = config('bookinfo', [
      {
        name: 'https.nowhere',
        match: { serverNames: ['nowhere.example.com'] },
        tls: { mode: 'SIMPLE', secretName: 'kubernetes://gw/nowhere', requireClientCertificate: false },
        http: { routeConfigName: 'https.bookinfo' },
      },
    ])
    await expect(proxy.reload(unknown)).rejects.toThrow(
      'Listener 0.0.0.0_8443: filterChains[2].tls.secretName: unknown Secret kubernetes://gw/nowhere',
    )
    const mismatched = config('bookinfo')
    mismatched.secrets![0] = { ...mismatched.secrets![0]!, privateKey: key('mtls') }
    await expect(proxy.reload(mismatched)).rejects.toThrow('Secret kubernetes://gw/bookinfo: privateKey')
    expect((await get(BOOKINFO)).status).toBe(200)
  })
})
