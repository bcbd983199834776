// A test certificate service: a real gRPC server over real TLS (its serving certificate signed by
// a throwaway mesh root made with @peculiar/x509) that answers
// `minimesh.security.v1.CertificateService/CreateCertificate` as meshd's CA does: the bearer token
// names the ServiceAccount (a fixed test table here, a TokenReview in meshd), the CSR must be
// signed and ask for exactly that SPIFFE id, and the leaf it signs carries the CSR's key. Not
// meshd's CA (helper A1 builds that): a stand-in to test the proxy's client against. More services
// (discovery, quota) can be added to the same TLS server, as meshd serves them on 15012.
import { webcrypto } from 'node:crypto'
import * as grpc from '@grpc/grpc-js'
import {
  type CertificateRequest__Output,
  type CertificateResponse,
  type CertificateServiceHandlers,
  loadCaProto,
} from '@minimesh/api'
import { loadX509 } from '../identity/csr.ts'

const crypto = webcrypto
type CryptoKeyPair = webcrypto.CryptoKeyPair
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const

function serial(): string {
  const b = crypto.getRandomValues(new Uint8Array(16))
  b[0] = (b[0]! & 0x7f) | 0x01
  return Buffer.from(b).toString('hex')
}

export interface TestRoot {
  certPem: string
  keys: CryptoKeyPair
  subject: string
}

/** A self-signed ECDSA root (the mesh root of a test). */
export async function createTestRoot(name = 'minimesh test root'): Promise<TestRoot> {
  const x509 = await loadX509()
  const keys = (await crypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial(),
      name: `CN=${name}, O=cluster.local`,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
      keys,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      ],
    },
    crypto,
  )
  return { certPem: cert.toString('pem'), keys, subject: cert.subject }
}

/** A serving certificate for `localhost` and 127.0.0.1 signed by `root`: [certPem, keyPem]. */
export async function createServingCert(root: TestRoot, dns = ['localhost'], ips = ['127.0.0.1']) {
  const x509 = await loadX509()
  const keys = (await crypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serial(),
      subject: 'CN=meshd',
      issuer: root.subject,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
      publicKey: keys.publicKey,
      signingKey: root.keys.privateKey,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([
          ...dns.map((value) => ({ type: 'dns' as const, value })),
          ...ips.map((value) => ({ type: 'ip' as const, value })),
        ]),
      ],
    },
    crypto,
  )
  const keyPem = x509.PemConverter.encode(
    await crypto.subtle.exportKey('pkcs8', keys.privateKey),
    'PRIVATE KEY',
  )
  return [cert.toString('pem'), keyPem] as const
}

export interface IssuedRecord {
  token: string
  spiffeId: string
  validitySeconds: number
  serial: string
}

export interface TestCertificateServerOptions {
  /** Bearer token → `<ns>/<sa>` it stands for. */
  tokens: Record<string, string>
  /** Lifetime when the request says 0 (default 24 h). */
  defaultTtlSeconds?: number
  /** Names in the serving certificate (default localhost and 127.0.0.1). */
  servingNames?: { dns: string[]; ips: string[] }
  /** Adds more services to the same TLS server before it binds. */
  services?: (server: grpc.Server) => void
}

export class TestCertificateServer {
  root!: TestRoot
  port = 0
  readonly issued: IssuedRecord[] = []
  /** Set to make CreateCertificate fail with UNAVAILABLE (the server stays up). */
  failWith: string | undefined
  #server: grpc.Server | undefined
  #serving!: readonly [string, string]
  readonly #opts: TestCertificateServerOptions

  constructor(opts: TestCertificateServerOptions) {
    this.#opts = opts
  }

  get rootPem(): string {
    return this.root.certPem
  }

  get address(): string {
    return `localhost:${this.port}`
  }

  /** Makes the root (once) and listens (on `port`, or a free one the first time). */
  async start(): Promise<void> {
    this.root ??= await createTestRoot()
    const names = this.#opts.servingNames
    this.#serving ??= await createServingCert(this.root, names?.dns, names?.ips)
    const server = new grpc.Server()
    const handlers: CertificateServiceHandlers = {
      CreateCertificate: (call, callback) =>
        void this.#sign(call).then(
          (res) => callback(null, res),
          (err: grpc.ServiceError) => callback(err),
        ),
    }
    server.addService(loadCaProto().minimesh.security.v1.CertificateService.service, handlers)
    this.#opts.services?.(server)
    const creds = grpc.ServerCredentials.createSsl(
      null,
      [{ cert_chain: Buffer.from(this.#serving[0]), private_key: Buffer.from(this.#serving[1]) }],
      false,
    )
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${this.port}`, creds, (e, p) => (e ? reject(e) : resolve(p))),
    )
    this.#server = server
  }

  /** Goes away (connections cut), as a CA that is down; `start()` comes back on the same port. */
  stop(): void {
    this.#server?.forceShutdown()
    this.#server = undefined
  }

  async #sign(
    call: grpc.ServerUnaryCall<CertificateRequest__Output, CertificateResponse>,
  ): Promise<CertificateResponse> {
    const fail = (code: grpc.status, details: string) =>
      Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() })
    if (this.failWith) throw fail(grpc.status.UNAVAILABLE, this.failWith)
    const auth = String(call.metadata.get('authorization')[0] ?? '')
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : ''
    const who = this.#opts.tokens[token]
    if (!who) throw fail(grpc.status.UNAUTHENTICATED, 'token not accepted')
    const [ns, sa] = who.split('/')
    const want = `spiffe://cluster.local/ns/${ns}/sa/${sa}`
    const x509 = await loadX509()
    const csr = new x509.Pkcs10CertificateRequest(call.request.csr)
    if (!(await csr.verify())) throw fail(grpc.status.INVALID_ARGUMENT, 'CSR signature does not verify')
    const san = csr.extensions.find((e) => e instanceof x509.SubjectAlternativeNameExtension)
    const uris = san?.names.items.filter((n) => n.type === 'url').map((n) => n.value) ?? []
    if (uris.length !== 1 || uris[0] !== want)
      throw fail(grpc.status.PERMISSION_DENIED, `token is for ${want}, CSR asks for ${uris.join(',')}`)
    const ttl = Number(call.request.validity_duration) || (this.#opts.defaultTtlSeconds ?? 86_400)
    const now = Date.now()
    const leaf = await x509.X509CertificateGenerator.create(
      {
        serialNumber: serial(),
        subject: '',
        issuer: this.root.subject,
        notBefore: new Date(now),
        notAfter: new Date(now + ttl * 1000),
        publicKey: await csr.publicKey.export(crypto),
        signingKey: this.root.keys.privateKey,
        signingAlgorithm: ALG,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.ExtendedKeyUsageExtension([
            x509.ExtendedKeyUsage.serverAuth,
            x509.ExtendedKeyUsage.clientAuth,
          ]),
          new x509.SubjectAlternativeNameExtension([{ type: 'url', value: want }], true),
        ],
      },
      crypto,
    )
    this.issued.push({ token, spiffeId: want, validitySeconds: ttl, serial: leaf.serialNumber })
    return { cert_chain: [leaf.toString('pem'), this.root.certPem] }
  }
}
