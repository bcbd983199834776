// A throwaway CA and a serving certificate it signs, for the webhook (tests, `meshctl install`,
// the local cluster). ECDSA P-256 with WebCrypto, built with @peculiar/x509; PEM out.
import { webcrypto } from 'node:crypto'
import { isIP } from 'node:net'

const crypto = webcrypto
type CryptoKey = webcrypto.CryptoKey
type CryptoKeyPair = webcrypto.CryptoKeyPair
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const

export interface CertificateBundle {
  /** The CA certificate (PEM): the webhook configurations' caBundle, clients' trust root. */
  caCert: string
  /** The CA's private key (PKCS#8 PEM), to sign more later; keep it secret or throw it away. */
  caKey: string
  /** The serving certificate (PEM) and its key (PKCS#8 PEM). */
  cert: string
  key: string
}

export interface GenerateCertificatesOptions {
  /** DNS names of the serving certificate (default: meshd's Service names, and localhost). */
  dnsNames?: string[]
  /** IP addresses of the serving certificate (default 127.0.0.1). */
  ipAddresses?: string[]
  commonName?: string
  /** Validity of both certificates in days (default 365). */
  validityDays?: number
}

/** The names a Service is reached by from inside the cluster: name, name.ns, name.ns.svc, FQDN. */
export function serviceDnsNames(name: string, namespace: string, clusterDomain = 'cluster.local'): string[] {
  return [
    name,
    `${name}.${namespace}`,
    `${name}.${namespace}.svc`,
    `${name}.${namespace}.svc.${clusterDomain}`,
  ]
}

type X509 = typeof import('@peculiar/x509')
let x509Module: Promise<X509> | undefined

/** @peculiar/x509 needs a Reflect metadata polyfill loaded first; loaded on first use only. */
function loadX509(): Promise<X509> {
  x509Module ??= import('reflect-metadata').then(() => import('@peculiar/x509'))
  return x509Module
}

async function pkcs8Pem(x509: X509, key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await crypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY')
}

function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  bytes[0] = (bytes[0]! & 0x7f) | 0x01 // positive, non-zero leading byte
  return Buffer.from(bytes).toString('hex')
}

/** Generates a fresh CA and a serving certificate signed by it. */
export async function generateCertificates(
  options: GenerateCertificatesOptions = {},
): Promise<CertificateBundle> {
  const x509 = await loadX509()
  const dnsNames = options.dnsNames ?? [...serviceDnsNames('meshd', 'minimesh-system'), 'localhost']
  const ipAddresses = options.ipAddresses ?? ['127.0.0.1']
  for (const ip of ipAddresses) if (isIP(ip) === 0) throw new TypeError(`"${ip}" is not an IP address`)
  const commonName = options.commonName ?? dnsNames[0] ?? ipAddresses[0] ?? 'minimesh-webhook'
  const notBefore = new Date(Date.now() - 5 * 60_000) // tolerate clock skew
  const notAfter = new Date(Date.now() + (options.validityDays ?? 365) * 86_400_000)

  const caKeys = (await crypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair
  const caName = 'CN=minimesh webhook CA, O=minimesh'
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(),
      name: caName,
      notBefore,
      notAfter,
      keys: caKeys,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  )

  const keys = (await crypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial(),
      subject: `CN=${commonName}`,
      issuer: ca.subject,
      notBefore,
      notAfter,
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
          true,
        ),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([
          ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
          ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
        ]),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
        await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  )
  return {
    caCert: ca.toString('pem'),
    caKey: await pkcs8Pem(x509, caKeys.privateKey),
    cert: cert.toString('pem'),
    key: await pkcs8Pem(x509, keys.privateKey),
  }
}
