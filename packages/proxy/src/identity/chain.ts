// What the proxy checks before it uses a chain the CA sent: every certificate parses, the leaf
// carries the key made in the pod and exactly the SPIFFE id asked for, each certificate is signed
// by the next, the last one is signed by (or is) one of the mesh roots, and the leaf is in its
// validity period. A chain that fails any of these is refused and the old certificate keeps
// serving. Also the mesh roots themselves (MESH_CA_ROOT_CERT: PEM, or a file holding it).
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { ProxyError } from '../errors.ts'
import type { WorkloadCertificate } from './certificates.ts'

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

/** The PEM certificates of a bundle, each as its own string (with a final newline). */
export function splitPem(bundle: string): string[] {
  return (bundle.match(PEM_CERT) ?? []).map((p) => `${p}\n`)
}

/**
 * The mesh roots from a flag or env value: PEM text, or the path of a file holding it. Throws
 * MESH_ERR_PROXY_CA_ROOTS when there is no certificate in it (or one does not parse).
 */
export function readRoots(value: string, from = 'MESH_CA_ROOT_CERT'): string {
  let text = value
  if (!value.includes('-----BEGIN')) {
    try {
      text = readFileSync(value, 'utf8')
    } catch (cause) {
      throw new ProxyError(
        'MESH_ERR_PROXY_CA_ROOTS',
        `${from}: neither PEM nor a readable file: ${value} (${(cause as Error).message})`,
        { cause },
      )
    }
  }
  const pems = splitPem(text)
  if (pems.length === 0)
    throw new ProxyError('MESH_ERR_PROXY_CA_ROOTS', `${from}: no PEM certificate in ${value.slice(0, 60)}`)
  for (const [i, p] of pems.entries()) {
    try {
      new X509Certificate(p)
    } catch (cause) {
      throw new ProxyError('MESH_ERR_PROXY_CA_ROOTS', `${from}: certificate ${i + 1} does not parse`, {
        cause,
      })
    }
  }
  return pems.join('')
}

function chainError(message: string, cause?: unknown): ProxyError {
  return new ProxyError('MESH_ERR_PROXY_CA_CHAIN', message, cause === undefined ? undefined : { cause })
}

/** The URI SANs of a certificate (Node's `subjectAltName` text: `URI:a, DNS:b`). */
export function uriSans(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((s) => s.startsWith('URI:'))
    .map((s) => s.slice(4))
}

export interface ChainCheck {
  spiffeId: string
  keyPem: string
  /** The public key the leaf must carry (SubjectPublicKeyInfo DER). */
  publicKeySpki: Buffer
  rootsPem: string
  now?: Date
}

/** Checks the CA's answer (leaf first, root last) and makes the certificate to install. */
export function checkChain(chain: string[], want: ChainCheck): WorkloadCertificate {
  if (chain.length === 0) throw chainError('the CA returned an empty cert_chain')
  const certs = chain.map((pem, i) => {
    try {
      return new X509Certificate(pem)
    } catch (cause) {
      throw chainError(`cert_chain[${i}] is not a PEM certificate`, cause)
    }
  })
  const roots = splitPem(want.rootsPem).map((p) => new X509Certificate(p))
  const leaf = certs[0]!
  const spki = leaf.publicKey.export({ type: 'spki', format: 'der' })
  if (!spki.equals(want.publicKeySpki))
    throw chainError('cert_chain[0] does not carry the key of the request (not this CSR’s certificate)')
  const sans = uriSans(leaf)
  if (sans.length !== 1 || sans[0] !== want.spiffeId)
    throw chainError(`cert_chain[0] is for ${sans.join(', ') || 'no URI SAN'}, not ${want.spiffeId}`)
  for (let i = 0; i + 1 < certs.length; i++) {
    if (!certs[i]!.verify(certs[i + 1]!.publicKey))
      throw chainError(`cert_chain[${i}] is not signed by cert_chain[${i + 1}]`)
  }
  const last = certs[certs.length - 1]!
  const anchored = roots.some((r) => r.raw.equals(last.raw) || last.verify(r.publicKey))
  if (!anchored)
    throw chainError(
      `the chain does not lead to a mesh root (its last certificate is issued by ${last.issuer.replace(/\n/g, ', ')})`,
    )
  const notBefore = new Date(leaf.validFrom)
  const notAfter = new Date(leaf.validTo)
  const now = want.now ?? new Date()
  if (notAfter <= now) throw chainError(`cert_chain[0] expired at ${notAfter.toISOString()}`)
  // Self-signed roots are trust anchors (in rootsPem), not part of the chain a peer is shown.
  const shown = chain.filter((_, i) => i === 0 || certs[i]!.issuer !== certs[i]!.subject)
  return {
    spiffeId: want.spiffeId,
    certChainPem: shown.map((p) => (p.endsWith('\n') ? p : `${p}\n`)).join(''),
    keyPem: want.keyPem,
    rootsPem: want.rootsPem,
    notBefore,
    notAfter,
  }
}
