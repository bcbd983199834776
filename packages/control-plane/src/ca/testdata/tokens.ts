// Test helpers: a token issuer shaped like the local cluster's (ES256 JWTs with Kubernetes' claims,
// public keys as a JWKS file) and a CSR maker shaped like the proxy's.
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { type CryptoKeyPair, EC_P256, loadX509, subtle } from '../x509.ts'

export class TestTokenIssuer {
  readonly signingKey: KeyObject
  readonly kid = 'test-key-1'
  readonly jwks: { keys: object[] }

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    this.signingKey = privateKey
    this.jwks = {
      keys: [{ ...publicKey.export({ format: 'jwk' }), kid: this.kid, alg: 'ES256', use: 'sig' }],
    }
  }

  writeJwks(path: string): void {
    writeFileSync(path, JSON.stringify(this.jwks))
  }

  token(o: {
    namespace: string
    serviceAccount: string
    pod?: { name: string; uid?: string }
    audience?: string | string[]
    exp?: number
    nbf?: number
    key?: KeyObject
  }): string {
    const now = Math.floor(Date.now() / 1000)
    const header = { alg: 'ES256', typ: 'JWT', kid: this.kid }
    const claims = {
      iss: 'https://kubernetes.default.svc.cluster.local',
      sub: `system:serviceaccount:${o.namespace}:${o.serviceAccount}`,
      aud: o.audience ?? ['minimesh-ca'],
      iat: now,
      nbf: o.nbf ?? now,
      exp: o.exp ?? now + 3600,
      'kubernetes.io': {
        namespace: o.namespace,
        serviceaccount: { name: o.serviceAccount, uid: 'sa-uid' },
        ...(o.pod ? { pod: o.pod } : {}),
      },
    }
    const enc = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url')
    const input = `${enc(header)}.${enc(claims)}`
    const sig = sign('sha256', Buffer.from(input), {
      key: o.key ?? this.signingKey,
      dsaEncoding: 'ieee-p1363',
    })
    return `${input}.${sig.toString('base64url')}`
  }
}

/** A P-256 key and a CSR for it with the given URI/DNS SANs; keyPem to serve with. */
export async function makeCsr(
  sans: { type: 'url' | 'dns'; value: string }[],
): Promise<{ csr: string; keyPem: string }> {
  const x509 = await loadX509()
  const keys = (await subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as CryptoKeyPair
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys,
    signingAlgorithm: EC_P256,
    extensions: sans.length ? [new x509.SubjectAlternativeNameExtension(sans)] : [],
  })
  const der = Buffer.from(await subtle.exportKey('pkcs8', keys.privateKey))
  return { csr: csr.toString('pem'), keyPem: `${x509.PemConverter.encode(der, 'PRIVATE KEY')}\n` }
}

/** A root and an intermediate signed by it (Istio's plug-in CA files), ECDSA P-256. */
export async function makePluginCa(): Promise<Record<string, string>> {
  const x509 = await loadX509()
  const gen = async () => (await subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as CryptoKeyPair
  const [rootKeys, interKeys] = [await gen(), await gen()]
  const now = Date.now()
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'O=example, CN=Example Root CA',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 365 * 86_400_000),
    keys: rootKeys,
    signingAlgorithm: EC_P256,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  })
  const inter = await x509.X509CertificateGenerator.create({
    subject: 'O=example, CN=Intermediate CA cluster-1',
    issuer: root.subjectName,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 180 * 86_400_000),
    publicKey: interKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: EC_P256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(interKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  })
  const der = Buffer.from(await subtle.exportKey('pkcs8', interKeys.privateKey))
  const key = x509.PemConverter.encode(der, 'PRIVATE KEY')
  const rootPem = root.toString('pem')
  const interPem = inter.toString('pem')
  return {
    'ca-cert.pem': `${interPem}\n`,
    'ca-key.pem': `${key}\n`,
    'root-cert.pem': `${rootPem}\n`,
    'cert-chain.pem': `${interPem}\n${rootPem}\n`,
  }
}
