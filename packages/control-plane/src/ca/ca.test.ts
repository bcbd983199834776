// The mesh CA end to end: meshd started on port 0 with its CA, the certificate service called over
// real TLS (verified against the mesh root) with real gRPC, tokens signed like the local cluster's.

import { X509Certificate } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer as createHttp } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, createServer as createTlsServer } from 'node:tls'
import * as grpc from '@grpc/grpc-js'
import { KubeConfig } from '@kubernetes/client-node'
import {
  type CertificateResponse__Output,
  type CertificateServiceClient,
  formatNodeId,
  loadCaProto,
} from '@minimesh/api'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type Meshd, startMeshd } from '../meshd.ts'
import { TestProxy } from '../testdata/xds-client.ts'
import { makeCsr, makePluginCa, TestTokenIssuer } from './testdata/tokens.ts'

const logger = pino({ level: 'silent' })
const SA = 'bookinfo-productpage'
const POD = 'productpage-v1-54bb874995-d5nrg'
const ID = `spiffe://cluster.local/ns/default/sa/${SA}`

const podYaml = (name: string, sa: string, uid: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: default, uid: ${uid}, labels: {app: productpage}}
spec:
  serviceAccountName: ${sa}
  containers: [{name: productpage, image: x}]
status: {podIP: 198.18.0.16}
`

const dirs: string[] = []
const tmp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p))
  dirs.push(d)
  return d
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function caClient(address: string, rootsPem: string, overrideName?: string): CertificateServiceClient {
  const Client = loadCaProto().minimesh.security.v1.CertificateService
  return new Client(address, grpc.credentials.createSsl(Buffer.from(rootsPem)), {
    'grpc.use_local_subchannel_pool': 1,
    ...(overrideName ? { 'grpc.ssl_target_name_override': overrideName } : {}),
  })
}

function createCertificate(
  client: CertificateServiceClient,
  csr: string,
  token?: string,
  validity = 0,
): Promise<CertificateResponse__Output> {
  const md = new grpc.Metadata()
  if (token !== undefined) md.set('authorization', `Bearer ${token}`)
  return new Promise((resolve, reject) =>
    client.CreateCertificate({ csr, validity_duration: validity }, md, (err, res) =>
      err ? reject(err) : resolve(res!),
    ),
  )
}

const metric = async (meshd: Meshd, name: string) => {
  const text = await (await fetch(`http://${meshd.addresses.monitoring}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(name))
  return line ? Number(line.split(' ').at(-1)) : undefined
}

async function start(
  configDir: string,
  ca: NonNullable<Parameters<typeof startMeshd>[0]>['ca'],
): Promise<Meshd> {
  return startMeshd({
    configDir,
    grpcAddress: '127.0.0.1:0',
    monitoringAddress: '127.0.0.1:0',
    webhookAddress: '127.0.0.1:0',
    processMetrics: false,
    logger,
    ca: { address: '127.0.0.1:0', ...ca },
  })
}

describe('meshd CA on the local cluster (JWKS tokens, state dir)', () => {
  const issuer = new TestTokenIssuer()
  let configDir: string
  let stateDir: string
  let jwks: string
  let meshd: Meshd
  let client: CertificateServiceClient
  const token = (o: Partial<Parameters<TestTokenIssuer['token']>[0]> = {}) =>
    issuer.token({ namespace: 'default', serviceAccount: SA, pod: { name: POD, uid: 'uid-1' }, ...o })

  beforeAll(async () => {
    configDir = tmp('meshd-ca-config-')
    stateDir = tmp('meshd-ca-state-')
    jwks = join(tmp('meshd-ca-jwks-'), 'jwks.json')
    issuer.writeJwks(jwks)
    mkdirSync(join(configDir, 'pod', 'default'), { recursive: true })
    writeFileSync(join(configDir, 'pod', 'default', `${POD}.yaml`), podYaml(POD, SA, 'uid-1'))
    writeFileSync(join(configDir, 'pod', 'default', 'other.yaml'), podYaml('other', 'default', 'uid-2'))
    meshd = await start(configDir, { stateDir, tokenJwks: jwks, maxWorkloadCertTtlSeconds: 48 * 3600 })
    client = caClient(meshd.addresses.secureGrpc!, meshd.ca!.rootsPem)
  })
  afterAll(async () => {
    client?.close()
    await meshd?.close()
  })

  it('signs a CSR: the chain verifies against the root, the only SAN is the token identity, usable for TLS', async () => {
    const { csr, keyPem } = await makeCsr([{ type: 'url', value: ID }])
    const res = await createCertificate(client, csr, token(), 3600)
    expect(res.cert_chain).toHaveLength(2)
    const [leaf, root] = res.cert_chain.map((p) => new X509Certificate(p)) as [
      X509Certificate,
      X509Certificate,
    ]
    expect(root.toString()).toBe(new X509Certificate(meshd.ca!.rootsPem).toString())
    expect(leaf.checkIssued(root)).toBe(true)
    expect(leaf.verify(root.publicKey)).toBe(true)
    expect(leaf.subjectAltName).toBe(`URI:${ID}`)
    expect(leaf.ca).toBe(false)
    expect(leaf.keyUsage?.sort()).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']) // server, client auth
    const ttl = (Date.parse(leaf.validTo) - Date.now()) / 1000
    expect(ttl).toBeGreaterThan(3500)
    expect(ttl).toBeLessThan(3700)
    // A real TLS handshake with that certificate, verified against the mesh root only.
    const server = createTlsServer({ cert: res.cert_chain.slice(0, -1).join(''), key: keyPem }, (s) =>
      s.end('ok'),
    )
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as { port: number }).port
    const peer = await new Promise<string>((resolve, reject) => {
      const s = connect(
        { port, host: '127.0.0.1', ca: meshd.ca!.rootsPem, checkServerIdentity: () => undefined },
        () => resolve(s.getPeerX509Certificate()?.subjectAltName ?? ''),
      )
      s.on('error', reject)
    })
    server.close()
    expect(peer).toBe(`URI:${ID}`)
    expect(await metric(meshd, 'meshd_ca_certificates_issued_total')).toBeGreaterThanOrEqual(1)
  })

  it('uses the default TTL for 0 and caps a longer ask at --max-workload-cert-ttl', async () => {
    const { csr } = await makeCsr([])
    const dflt = new X509Certificate((await createCertificate(client, csr, token())).cert_chain[0]!)
    expect(Math.round((Date.parse(dflt.validTo) - Date.now()) / 3_600_000)).toBe(24)
    const capped = new X509Certificate(
      (await createCertificate(client, csr, token(), 365 * 86400)).cert_chain[0]!,
    )
    expect(Math.round((Date.parse(capped.validTo) - Date.now()) / 3_600_000)).toBe(48)
    expect(dflt.subjectAltName).toBe(`URI:${ID}`) // a CSR without SANs gets the caller's identity
  })

  it('refuses a CSR for another identity with PERMISSION_DENIED naming both', async () => {
    const other = 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews'
    const before = (await metric(meshd, 'meshd_ca_refusals_total{reason="identity_mismatch"}')) ?? 0
    const { csr } = await makeCsr([{ type: 'url', value: other }])
    await expect(createCertificate(client, csr, token())).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
      details: `the CSR asks for ${other} but the caller is ${ID}`,
    })
    const { csr: withDns } = await makeCsr([
      { type: 'url', value: ID },
      { type: 'dns', value: 'reviews.default.svc' },
    ])
    await expect(createCertificate(client, withDns, token())).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
      details: expect.stringContaining('dns:reviews.default.svc'),
    })
    expect(await metric(meshd, 'meshd_ca_refusals_total{reason="identity_mismatch"}')).toBe(before + 2)
  })

  it('refuses a CSR whose signature does not verify (INVALID_ARGUMENT)', async () => {
    const { csr } = await makeCsr([{ type: 'url', value: ID }])
    const der = Buffer.from(csr.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64')
    der[der.length - 5]! ^= 0xff
    const bad = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`
    await expect(createCertificate(client, bad, token())).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
    })
  })

  it('refuses missing, expired, wrong-audience, forged and pod-less tokens with UNAUTHENTICATED and the reason', async () => {
    const { csr } = await makeCsr([{ type: 'url', value: ID }])
    const now = Math.floor(Date.now() / 1000)
    const cases: [string | undefined, RegExp][] = [
      [undefined, /no authorization metadata/],
      ['not-a-jwt', /not a JWT/],
      [token({ exp: now - 600, nbf: now - 4000 }), /the token expired at/],
      [token({ audience: ['https://kubernetes.default.svc'] }), /audience .* does not include minimesh-ca/],
      [token({ key: new TestTokenIssuer().signingKey }), /signature does not verify/],
      [token({ pod: undefined }), /not bound to a pod/],
      [
        token({ serviceAccount: 'default', pod: { name: POD, uid: 'uid-1' } }),
        /runs as service account bookinfo-productpage, not default/,
      ],
    ]
    for (const [t, reason] of cases)
      await expect(createCertificate(client, csr, t), String(reason)).rejects.toMatchObject({
        code: grpc.status.UNAUTHENTICATED,
        details: expect.stringMatching(reason),
      })
  })

  it('refuses a token whose pod was deleted', async () => {
    const { csr } = await makeCsr([{ type: 'url', value: 'spiffe://cluster.local/ns/default/sa/default' }])
    const t = issuer.token({
      namespace: 'default',
      serviceAccount: 'default',
      pod: { name: 'other', uid: 'uid-2' },
    })
    expect((await createCertificate(client, csr, t)).cert_chain).toHaveLength(2)
    rmSync(join(configDir, 'pod', 'default', 'other.yaml'))
    const t0 = Date.now()
    while (meshd.store.get('core/Pod/default/other') && Date.now() - t0 < 5000)
      await new Promise((r) => setTimeout(r, 50))
    await expect(createCertificate(client, csr, t)).rejects.toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
      details: "invalid token: the token's pod default/other does not exist",
    })
  })

  it('answers only over TLS: the plaintext port refuses certificate requests', async () => {
    const Client = loadCaProto().minimesh.security.v1.CertificateService
    const plain = new Client(meshd.addresses.grpc, grpc.credentials.createInsecure())
    const { csr } = await makeCsr([{ type: 'url', value: ID }])
    await expect(createCertificate(plain, csr, token())).rejects.toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
      details: expect.stringContaining('only over TLS'),
    })
    plain.close()
  })

  it("serves discovery over TLS on the same port, with a certificate for meshd's names", async () => {
    const proxy = new TestProxy(
      meshd.addresses.secureGrpc!,
      { id: formatNodeId('sidecar', '198.18.0.16', POD, 'default'), namespace: 'default' },
      {
        credentials: grpc.credentials.createSsl(Buffer.from(meshd.ca!.rootsPem)),
        channelOptions: { 'grpc.ssl_target_name_override': 'meshd.minimesh-system.svc' },
      },
    )
    await proxy.until(() => proxy.received.length > 0, 5000, 'a discovery response over TLS')
    proxy.close()
    const serving = new X509Certificate(meshd.ca!.serving.certificate!.certChainPem)
    expect(serving.subjectAltName).toContain('DNS:meshd.minimesh-system.svc.cluster.local')
    expect(serving.subjectAltName).toContain('IP Address:127.0.0.1')
    expect(serving.verify(new X509Certificate(meshd.ca!.rootsPem).publicKey)).toBe(true)
  })

  it('keeps its root in the state dir (key 0600) and reuses it on the next start', async () => {
    const first = meshd.ca!.rootsPem
    expect(readFileSync(join(stateDir, 'ca', 'ca-cert.pem'), 'utf8')).toBe(first)
    expect(statSync(join(stateDir, 'ca', 'ca-key.pem')).mode & 0o777).toBe(0o600)
    const second = await start(configDir, { stateDir, tokenJwks: jwks })
    try {
      expect(second.ca!.rootsPem).toBe(first)
      const c = caClient(second.addresses.secureGrpc!, first)
      const { csr } = await makeCsr([{ type: 'url', value: ID }])
      const res = await createCertificate(c, csr, token())
      c.close()
      expect(new X509Certificate(res.cert_chain[0]!).verify(new X509Certificate(first).publicKey)).toBe(true)
    } finally {
      await second.close()
    }
    const elsewhere = await start(configDir, { stateDir: tmp('meshd-ca-state2-'), tokenJwks: jwks })
    expect(elsewhere.ca!.rootsPem).not.toBe(first)
    await elsewhere.close()
  })
})

describe('plug-in CA (cacerts)', () => {
  let meshd: Meshd | undefined
  afterEach(async () => {
    await meshd?.close()
    meshd = undefined
  })

  it('signs with the intermediate and sends the chain up to the root', async () => {
    const stateDir = tmp('meshd-ca-plugin-')
    const files = await makePluginCa()
    mkdirSync(join(stateDir, 'cacerts'))
    for (const [f, text] of Object.entries(files)) writeFileSync(join(stateDir, 'cacerts', f), text)
    const configDir = tmp('meshd-ca-plugin-config-')
    mkdirSync(join(configDir, 'pod', 'default'), { recursive: true })
    writeFileSync(join(configDir, 'pod', 'default', `${POD}.yaml`), podYaml(POD, SA, 'uid-1'))
    const issuer = new TestTokenIssuer()
    const jwks = join(stateDir, 'jwks.json')
    issuer.writeJwks(jwks)
    meshd = await start(configDir, { stateDir, tokenJwks: jwks })
    const root = new X509Certificate(files['root-cert.pem']!)
    const inter = new X509Certificate(files['ca-cert.pem']!)
    expect(meshd.ca!.rootsPem).toBe(root.toString())
    expect(meshd.ca!.ca.plugin).toBe(true)
    // 15012's own certificate chains to the plug-in root too.
    const client = caClient(meshd.addresses.secureGrpc!, files['root-cert.pem']!, 'meshd.minimesh-system.svc')
    const { csr } = await makeCsr([{ type: 'url', value: ID }])
    const res = await createCertificate(
      client,
      csr,
      issuer.token({ namespace: 'default', serviceAccount: SA, pod: { name: POD } }),
    )
    client.close()
    const chain = res.cert_chain.map((p) => new X509Certificate(p))
    expect(chain.map((c) => c.fingerprint256)).toEqual([
      chain[0]!.fingerprint256,
      inter.fingerprint256,
      root.fingerprint256,
    ])
    expect(chain[0]!.verify(inter.publicKey)).toBe(true)
    expect(chain[0]!.checkIssued(inter)).toBe(true)
    expect(inter.verify(root.publicKey)).toBe(true)
    expect(chain[0]!.subjectAltName).toBe(`URI:${ID}`)
    expect(existsInDir(stateDir, 'ca')).toBe(false) // no own root made
  })

  it('refuses to start with a key that is not the certificate’s', async () => {
    const stateDir = tmp('meshd-ca-plugin-bad-')
    const files = await makePluginCa()
    const other = await makePluginCa()
    mkdirSync(join(stateDir, 'cacerts'))
    for (const [f, text] of Object.entries({ ...files, 'ca-key.pem': other['ca-key.pem']! }))
      writeFileSync(join(stateDir, 'cacerts', f), text)
    await expect(start(tmp('meshd-ca-plugin-config-'), { stateDir })).rejects.toMatchObject({
      code: 'MESH_ERR_CA_PLUGIN',
      message: 'ca-key.pem is not the private key of ca-cert.pem',
    })
  })
})

function existsInDir(dir: string, name: string): boolean {
  try {
    statSync(join(dir, name))
    return true
  } catch {
    return false
  }
}

describe('on Kubernetes: TokenReview and the minimesh-ca Secret against a FAKE API server', () => {
  // No Kubernetes runs here: a real local HTTP server stands in for kube-apiserver and
  // answers TokenReviews and Secret get/create the way it does (a real apiserver: the kube e2e).
  let server: ReturnType<typeof createHttp>
  let port: number
  const secrets = new Map<string, unknown>()
  const reviews: unknown[] = []
  let meshd: Meshd | undefined

  beforeAll(async () => {
    server = createHttp((req, res) => {
      let body = ''
      req.on('data', (d) => (body += d))
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://x')
        const json = (status: number, v: unknown) =>
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(v))
        if (req.method === 'POST' && url.pathname === '/apis/authentication.k8s.io/v1/tokenreviews') {
          const review = JSON.parse(body) as { spec: { token: string; audiences: string[] } }
          reviews.push(review)
          const ok = review.spec.token === 'good-token' && review.spec.audiences.includes('minimesh-ca')
          return json(201, {
            ...review,
            status: ok
              ? {
                  authenticated: true,
                  audiences: ['minimesh-ca'],
                  user: {
                    username: 'system:serviceaccount:default:bookinfo-reviews',
                    extra: { 'authentication.kubernetes.io/pod-name': ['reviews-v1-abc'] },
                  },
                }
              : { authenticated: false, error: 'invalid bearer token, token has been invalidated' },
          })
        }
        const m = /^\/api\/v1\/namespaces\/([^/]+)\/secrets(?:\/([^/]+))?$/.exec(url.pathname)
        if (m && req.method === 'GET') {
          const s = secrets.get(`${m[1]}/${m[2]}`)
          return s ? json(200, s) : json(404, { kind: 'Status', code: 404, reason: 'NotFound' })
        }
        if (m && req.method === 'POST') {
          const s = JSON.parse(body) as { metadata: { name: string } }
          if (secrets.has(`${m[1]}/${s.metadata.name}`)) return json(409, { kind: 'Status', code: 409 })
          secrets.set(`${m[1]}/${s.metadata.name}`, s)
          return json(201, s)
        }
        json(404, { kind: 'Status', code: 404 })
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    port = (server.address() as { port: number }).port
  })
  afterAll(async () => {
    await meshd?.close()
    server.close()
  })

  const kubeConfig = () => {
    const kc = new KubeConfig()
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'meshd', token: 'meshd-token' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'meshd' }],
      currentContext: 'fake',
    })
    return kc
  }

  it('keeps its root in Secret minimesh-ca and asks the API server about tokens', async () => {
    meshd = await start(tmp('meshd-ca-kube-'), { kubeConfig: kubeConfig(), namespace: 'minimesh-system' })
    const secret = secrets.get('minimesh-system/minimesh-ca') as {
      type: string
      data: Record<string, string>
    }
    expect(secret.type).toBe('minimesh.dev/ca-root')
    expect(Buffer.from(secret.data['ca-cert.pem']!, 'base64').toString()).toBe(meshd.ca!.rootsPem)
    const client = caClient(meshd.addresses.secureGrpc!, meshd.ca!.rootsPem)
    const id = 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews'
    const { csr } = await makeCsr([{ type: 'url', value: id }])
    const res = await createCertificate(client, csr, 'good-token')
    expect(new X509Certificate(res.cert_chain[0]!).subjectAltName).toBe(`URI:${id}`)
    expect(reviews.at(-1)).toMatchObject({ spec: { token: 'good-token', audiences: ['minimesh-ca'] } })
    await expect(createCertificate(client, csr, 'stale-token')).rejects.toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
      details: expect.stringContaining('token has been invalidated'),
    })
    client.close()
    const root = meshd.ca!.rootsPem
    await meshd.close()
    // A restarted meshd finds the Secret and keeps the root.
    meshd = await start(tmp('meshd-ca-kube-'), { kubeConfig: kubeConfig(), namespace: 'minimesh-system' })
    expect(meshd.ca!.rootsPem).toBe(root)
  })
})
