// Small helpers over @peculiar/x509 (WebCrypto) and Node's own X509Certificate: loading the
// library, keys in and out of PEM, PEM bundles, serial numbers.
import { createPrivateKey, createPublicKey, type KeyObject, webcrypto, X509Certificate } from 'node:crypto'

export const subtle = webcrypto.subtle
export type CryptoKey = webcrypto.CryptoKey
export type CryptoKeyPair = webcrypto.CryptoKeyPair
export type X509 = typeof import('@peculiar/x509')

/** ECDSA P-256 with SHA-256: the mesh's own keys (root, workload certificates, meshd's serving cert). */
export const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const

let x509Module: Promise<X509> | undefined

/** @peculiar/x509 needs a Reflect metadata polyfill loaded first; loaded on first use only. */
export function loadX509(): Promise<X509> {
  x509Module ??= import('reflect-metadata').then(() => import('@peculiar/x509'))
  return x509Module
}

/** Every PEM block of a bundle, in order (each ends with a newline). */
export function splitPem(text: string): string[] {
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)].map(
    (m) => `${m[0]}\n`,
  )
}

/** Normalises a certificate PEM (one block, LF line ends, trailing newline). */
export function normalizePem(pem: string): string {
  return `${new X509Certificate(pem).toString().trim()}\n`
}

/** A positive, 128-bit random serial number (hex), as RFC 5280 asks (at most 20 octets). */
export function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16))
  bytes[0] = (bytes[0]! & 0x7f) | 0x01
  return Buffer.from(bytes).toString('hex')
}

export async function keyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await subtle.exportKey('pkcs8', key))
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({
    type: 'pkcs8',
    format: 'pem',
  }) as string
}

/** The WebCrypto algorithm that signs with a key of this type (EC P-256/P-384 or RSA). */
function signingAlgorithmOf(key: KeyObject): {
  import: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams
  sign: { name: string; hash: string } | { name: string; hash: string; namedCurve: string }
} {
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve
    const namedCurve = curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : undefined
    if (!namedCurve) throw new TypeError(`unsupported EC curve ${curve} (P-256 or P-384)`)
    const hash = namedCurve === 'P-384' ? 'SHA-384' : 'SHA-256'
    return { import: { name: 'ECDSA', namedCurve }, sign: { name: 'ECDSA', namedCurve, hash } }
  }
  if (key.asymmetricKeyType === 'rsa') {
    return {
      import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      sign: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    }
  }
  throw new TypeError(`unsupported key type ${key.asymmetricKeyType} (EC or RSA)`)
}

/** Imports a private key PEM (PKCS#8, SEC1 or PKCS#1) for signing. */
export async function importSigningKey(
  pem: string,
): Promise<{ key: CryptoKey; algorithm: { name: string; hash: string } }> {
  const obj = createPrivateKey(pem)
  const alg = signingAlgorithmOf(obj)
  const der = obj.export({ type: 'pkcs8', format: 'der' })
  const key = await subtle.importKey('pkcs8', der, alg.import, false, ['sign'])
  return { key, algorithm: alg.sign }
}

/** True when the private key belongs to the certificate (same public key). */
export function keyMatchesCertificate(keyPemText: string, cert: X509Certificate): boolean {
  const fromKey = createPublicKey(createPrivateKey(keyPemText)).export({ type: 'spki', format: 'der' })
  const fromCert = cert.publicKey.export({ type: 'spki', format: 'der' })
  return Buffer.compare(fromKey, fromCert) === 0
}
