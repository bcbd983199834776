// A test mesh CA: a root (and optionally an intermediate) that issue workload certificates with
// the mesh's identity, shaped as meshd's CA issues them: ECDSA P-256 keys, the SPIFFE id
// `spiffe://cluster.local/ns/<ns>/sa/<sa>` as the only URI SAN, serverAuth and clientAuth. Made
// with @peculiar/x509 over WebCrypto; the result is a WorkloadCertificate for a CertificateStore.
// For tests only (other helpers reuse it): the keys never leave the process.
import { webcrypto } from 'node:crypto'
import type { WorkloadCertificate } from '../identity/certificates.ts'

const crypto = webcrypto
type CryptoKeyPair = webcrypto.CryptoKeyPair
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const

type X509 = typeof import('@peculiar/x509')
let x509Module: Promise<X509> | undefined
/** @peculiar/x509 needs the Reflect metadata polyfill loaded first. */
function loadX509(): Promise<X509> {
  x509Module ??= import('reflect-metadata').then(() => import('@peculiar/x509'))
  return x509Module
}

function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  bytes[0] = (bytes[0]! & 0x7f) | 0x01
  return Buffer.from(bytes).toString('hex')
}

export interface IssueOptions {
  /** Validity from now (default 1 h); negative = already expired. */
  ttlMs?: number
  /** Extra URI SANs (beyond the SPIFFE id); `uris` replaces the SPIFFE id entirely when given. */
  uris?: string[]
  dnsNames?: string[]
}

export interface TestMeshCa {
  /** PEM of the root (the mesh trust root clients and servers verify against). */
  rootPem: string
  /** A workload certificate for `ns`/`sa`, signed by this CA (via its intermediate when it has one). */
  issue(ns: string, sa: string, opts?: IssueOptions): Promise<WorkloadCertificate>
}

export const spiffeId = (ns: string, sa: string) => `spiffe://cluster.local/ns/${ns}/sa/${sa}`

/** A fresh CA. `intermediate`: leaves are signed by an intermediate whose PEM follows the leaf in the chain. */
export async function createTestMeshCa(
  opts: { intermediate?: boolean; name?: string } = {},
): Promise<TestMeshCa> {
  const x509 = await loadX509()
  const notBefore = new Date(Date.now() - 5 * 60_000)
  const notAfter = new Date(Date.now() + 24 * 3600_000)
  const rootKeys = (await crypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair
  const root = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(),
      name: `CN=${opts.name ?? 'minimesh test root'}, O=cluster.local`,
      notBefore,
      notAfter,
      keys: rootKeys,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  )
  let signer = { cert: root, keys: rootKeys }
  const chainTail: string[] = []
  if (opts.intermediate) {
    const keys = (await crypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair
    const cert = await x509.X509CertificateGenerator.create(
      {
        serialNumber: randomSerial(),
        subject: 'CN=minimesh test intermediate, O=cluster.local',
        issuer: root.subject,
        notBefore,
        notAfter,
        publicKey: keys.publicKey,
        signingKey: rootKeys.privateKey,
        signingAlgorithm: ALG,
        extensions: [
          new x509.BasicConstraintsExtension(true, 0, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
          await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
          await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey, false, crypto),
        ],
      },
      crypto,
    )
    signer = { cert, keys }
    chainTail.push(cert.toString('pem'))
  }
  const rootPem = root.toString('pem')
  return {
    rootPem,
    async issue(ns, sa, o = {}) {
      const keys = (await crypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair
      const id = spiffeId(ns, sa)
      const ttl = o.ttlMs ?? 3600_000
      const nb = ttl < 0 ? new Date(Date.now() + 2 * ttl) : new Date(Date.now() - 60_000)
      const na = new Date(Date.now() + ttl)
      const uris = o.uris ?? [id]
      const cert = await x509.X509CertificateGenerator.create(
        {
          serialNumber: randomSerial(),
          subject: '',
          issuer: signer.cert.subject,
          notBefore: nb,
          notAfter: na,
          publicKey: keys.publicKey,
          signingKey: signer.keys.privateKey,
          signingAlgorithm: ALG,
          extensions: [
            new x509.BasicConstraintsExtension(false, undefined, true),
            new x509.KeyUsagesExtension(
              x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
              true,
            ),
            new x509.ExtendedKeyUsageExtension([
              x509.ExtendedKeyUsage.serverAuth,
              x509.ExtendedKeyUsage.clientAuth,
            ]),
            new x509.SubjectAlternativeNameExtension(
              [
                ...uris.map((value) => ({ type: 'url' as const, value })),
                ...(o.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
              ],
              true,
            ),
            await x509.AuthorityKeyIdentifierExtension.create(signer.keys.publicKey, false, crypto),
          ],
        },
        crypto,
      )
      return {
        spiffeId: id,
        certChainPem: [cert.toString('pem'), ...chainTail].join('\n'),
        keyPem: x509.PemConverter.encode(
          await crypto.subtle.exportKey('pkcs8', keys.privateKey),
          'PRIVATE KEY',
        ),
        rootsPem: rootPem,
        notBefore: nb,
        notAfter: na,
      }
    },
  }
}
