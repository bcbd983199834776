// The workload's key and certificate signing request, made in the pod: an ECDSA P-256 key pair from
// WebCrypto and a PKCS#10 CSR (built with @peculiar/x509) whose only name is the SPIFFE id, as a
// critical URI SAN with an empty subject (RFC 5280 §4.2.1.6), as Istio's agent asks. The private
// key stays in this process; only the CSR is sent to the CA. A new key for every certificate.
import { webcrypto } from 'node:crypto'

const crypto = webcrypto
type CryptoKeyPair = webcrypto.CryptoKeyPair
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const

/** The mesh's trust domain. */
const TRUST_DOMAIN = 'cluster.local'

/** `spiffe://cluster.local/ns/<ns>/sa/<sa>`: the identity a workload's certificate carries. */
export function spiffeIdOf(namespace: string, serviceAccount: string): string {
  return `spiffe://${TRUST_DOMAIN}/ns/${namespace}/sa/${serviceAccount}`
}

type X509 = typeof import('@peculiar/x509')
let x509Module: Promise<X509> | undefined

/** @peculiar/x509 needs a Reflect metadata polyfill first; loaded on first use (only with a CA). */
export function loadX509(): Promise<X509> {
  x509Module ??= import('reflect-metadata').then(() => import('@peculiar/x509'))
  return x509Module
}

export interface KeyAndCsr {
  /** PKCS#8 PEM private key. */
  keyPem: string
  /** PKCS#10 PEM request. */
  csrPem: string
  /** The public key (SubjectPublicKeyInfo DER) the signed certificate must carry. */
  publicKeySpki: Buffer
}

/** A fresh P-256 key and a CSR for `spiffeId` signed with it. */
export async function createKeyAndCsr(spiffeId: string): Promise<KeyAndCsr> {
  const x509 = await loadX509()
  const keys = (await crypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    {
      keys,
      signingAlgorithm: ALG,
      extensions: [
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: spiffeId }], true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
          true,
        ),
      ],
    },
    crypto,
  )
  return {
    keyPem: x509.PemConverter.encode(await crypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY'),
    csrPem: csr.toString('pem'),
    publicKeySpki: Buffer.from(await crypto.subtle.exportKey('spki', keys.publicKey)),
  }
}
