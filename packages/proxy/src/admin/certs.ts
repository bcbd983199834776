// The admin's `/certs`: this workload's certificate chain and the mesh roots, shaped like Envoy's
// `/certs` (`certificates[].cert_chain[]` and `ca_cert[]`, each with serial, SANs, validity and
// days until expiration), plus the identity and the rotation state (next request, failures). Only
// public material: the private key is never shown.
import { X509Certificate } from 'node:crypto'
import type { CertificateStore } from '../identity/certificates.ts'
import { splitPem } from '../identity/chain.ts'
import type { RotationStatus } from '../identity/rotation.ts'

export interface CertDetails {
  serial_number: string
  subject: string
  issuer: string
  subject_alt_names: ({ uri: string } | { dns: string } | { ip_address: string })[]
  valid_from: string
  expiration_time: string
  days_until_expiration: number
}

export interface CertsView {
  /** `spiffe://…` of the certificate in use, or null before the first. */
  identity: string | null
  certificates: { cert_chain: CertDetails[]; ca_cert: CertDetails[] }[]
  rotation: {
    next_attempt: string | null
    requests: number
    failures: number
    rotations: number
    consecutive_failures: number
    last_error: string | null
  } | null
}

function sans(cert: X509Certificate): CertDetails['subject_alt_names'] {
  return (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .filter(Boolean)
    .map((s) => {
      const i = s.indexOf(':')
      const [kind, value] = [s.slice(0, i), s.slice(i + 1)]
      return kind === 'URI' ? { uri: value } : kind === 'DNS' ? { dns: value } : { ip_address: value }
    })
}

// An empty subject (meshd's leaves carry their identity only in the SAN) is undefined on some Node 24 builds.
const oneLine = (name: string | undefined) => (name ?? '').split('\n').join(', ')

function certDetails(pem: string, now = Date.now()): CertDetails {
  const c = new X509Certificate(pem)
  const notAfter = new Date(c.validTo)
  return {
    serial_number: c.serialNumber.toLowerCase(),
    subject: oneLine(c.subject),
    issuer: oneLine(c.issuer),
    subject_alt_names: sans(c),
    valid_from: new Date(c.validFrom).toISOString(),
    expiration_time: notAfter.toISOString(),
    days_until_expiration: Math.floor((notAfter.getTime() - now) / 86_400_000),
  }
}

export function certsView(certs: CertificateStore, status: RotationStatus | undefined): CertsView {
  const cur = certs.current
  return {
    identity: cur?.spiffeId ?? null,
    certificates: cur
      ? [
          {
            cert_chain: splitPem(cur.certChainPem).map((p) => certDetails(p)),
            ca_cert: splitPem(cur.rootsPem).map((p) => certDetails(p)),
          },
        ]
      : [],
    rotation: status
      ? {
          next_attempt: status.nextAttempt?.toISOString() ?? null,
          requests: status.requests,
          failures: status.failures,
          rotations: status.rotations,
          consecutive_failures: status.consecutiveFailures,
          last_error: status.lastError ?? null,
        }
      : null,
  }
}
