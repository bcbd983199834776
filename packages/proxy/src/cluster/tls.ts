// TLS origination to a cluster's endpoints (a DestinationRule's `tls`, Istio's ClientTLSSettings):
// the PEM files are read and checked when the configuration is applied, so a missing or broken
// file rejects that configuration (NACK) instead of failing requests later. The result is the
// options of `tls.connect` (undici's pools and the TCP proxy use the same ones).
import { readFileSync } from 'node:fs'
import type { ConnectionOptions, PeerCertificate } from 'node:tls'
import type { Cluster } from '@minimesh/api/config'
import { ConfigError } from '../errors.ts'

export interface UpstreamTls {
  mode: 'SIMPLE' | 'MUTUAL'
  /** SNI and the name verified when no subjectAltNames are set: `sni`, else the service's host. */
  servername: string | undefined
  /** For `tls.connect`: ca, cert, key, rejectUnauthorized, checkServerIdentity. */
  options: ConnectionOptions
  /** The files read (path → bytes), to notice when one is replaced (certificate rotation). */
  files: ReadonlyMap<string, Buffer>
}

/** node:tls, loaded only by a proxy that originates TLS (or already has it loaded). */
const nodeTls = () => process.getBuiltinModule('node:tls')

type FileField = 'caCertificates' | 'clientCertificate' | 'privateKey'

/**
 * The TLS a cluster's connections use; undefined for plaintext (no tls, or DISABLE). Throws
 * ConfigError naming the cluster and the field when a file cannot be read or does not hold what
 * it should.
 */
export function loadUpstreamTls(
  cluster: Cluster,
  read: (path: string) => Buffer = readFileSync,
): UpstreamTls | undefined {
  const t = cluster.tls
  // ISTIO_MUTUAL is the mesh's own mTLS (the workload certificate, see mesh-tls.ts): no files.
  if (!t || t.mode === 'DISABLE' || t.mode === 'ISTIO_MUTUAL') return undefined
  const fail = (field: FileField, what: string, cause: unknown): never => {
    throw new ConfigError(
      cluster.name,
      `Cluster ${cluster.name}: tls.${field}: ${what}: ${(cause as Error).message ?? String(cause)}`,
      { cause },
    )
  }
  const files = new Map<string, Buffer>()
  const file = (field: FileField): Buffer | undefined => {
    const path = t[field]
    if (!path) return undefined
    try {
      const data = read(path)
      files.set(path, data)
      return data
    } catch (cause) {
      return fail(field, `cannot read ${path}`, cause)
    }
  }
  const ca = file('caCertificates')
  const cert = t.mode === 'MUTUAL' ? file('clientCertificate') : undefined
  const key = t.mode === 'MUTUAL' ? file('privateKey') : undefined
  // Parse them now: a file that is not PEM, or a key that does not belong to the certificate,
  // is a configuration error, not a failure of every connection.
  const { createSecureContext } = nodeTls()
  if (ca) {
    // createSecureContext skips what is not a certificate; every block must parse, and one must be there.
    const blocks = ca
      .toString('latin1')
      .match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)
    if (!blocks)
      fail(
        'caCertificates',
        `${t.caCertificates} holds no PEM certificates`,
        new Error('no BEGIN CERTIFICATE block'),
      )
    const { X509Certificate } = process.getBuiltinModule('node:crypto')
    for (const b of blocks ?? []) {
      try {
        new X509Certificate(b)
      } catch (cause) {
        fail('caCertificates', `${t.caCertificates} holds a certificate that does not parse`, cause)
      }
    }
  }
  if (cert && key) {
    try {
      createSecureContext({ cert })
    } catch (cause) {
      fail('clientCertificate', `${t.clientCertificate} holds no usable PEM certificate`, cause)
    }
    try {
      createSecureContext({ cert, key })
    } catch (cause) {
      fail('privateKey', `${t.privateKey} is not the PEM private key of the client certificate`, cause)
    }
  }
  const verify = !t.insecureSkipVerify
  return {
    mode: t.mode,
    servername: t.sni ?? cluster.service?.host,
    options: {
      ...(ca ? { ca } : {}),
      ...(cert && key ? { cert, key } : {}),
      rejectUnauthorized: verify,
      ...(verify && t.subjectAltNames?.length
        ? { checkServerIdentity: subjectAltNameCheck(t.subjectAltNames) }
        : {}),
    },
    files,
  }
}

/** True when a file the TLS was made from now reads differently (or cannot be read). */
export function tlsFilesChanged(tls: UpstreamTls, read: (path: string) => Buffer = readFileSync): boolean {
  for (const [path, data] of tls.files) {
    try {
      if (!read(path).equals(data)) return true
    } catch {
      return true
    }
  }
  return false
}

/** The SANs of a peer certificate (`DNS:a, URI:spiffe://…, IP Address:…`) as `[type, value]`. */
function peerSans(cert: PeerCertificate): [string, string][] {
  const text = cert.subjectaltname
  if (!text) return []
  const out: [string, string][] = []
  // Node quotes (JSON) a value that has a comma or quote in it.
  for (const m of text.matchAll(/([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g)) {
    const raw = m[2] ?? ''
    out.push([m[1]!, raw.startsWith('"') ? (JSON.parse(raw) as string) : raw])
  }
  return out
}

/** A certificate's DNS name (maybe `*.example.com`, one label wide) against a wanted name. */
function dnsMatches(certName: string, wanted: string): boolean {
  const c = certName.toLowerCase()
  const w = wanted.toLowerCase()
  if (c === w) return true
  if (!c.startsWith('*.')) return false
  const dot = w.indexOf('.')
  return dot > 0 && w.slice(dot) === c.slice(1)
}

/**
 * Istio's subjectAltNames: the server certificate must carry one of the names (exactly; a DNS
 * wildcard in the certificate covers one label). Replaces the default host name check.
 */
export function subjectAltNameCheck(
  wanted: readonly string[],
): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    const sans = peerSans(cert)
    for (const w of wanted)
      for (const [type, value] of sans)
        if (type === 'DNS' ? dnsMatches(value, w) : value === w) return undefined
    const got = sans.map(([t, v]) => `${t}:${v}`).join(', ') || 'none'
    return Object.assign(
      new Error(`the upstream certificate's subject alt names (${got}) match none of ${wanted.join(', ')}`),
      { code: 'ERR_TLS_CERT_ALTNAME_INVALID' },
    )
  }
}

/** OpenSSL's certificate verification results (Node reports them as the error code). */
const VERIFY_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
])

/**
 * The TLS handshake failure behind an error, if it is one: the server's certificate not trusted
 * or not the wanted name, a TLS alert from the server (e.g. it wanted a client certificate; with
 * TLS 1.3 that alert arrives just after the client's side of the handshake, and the error the
 * request sees carries it as `cause`), or a peer that does not speak TLS.
 */
export function tlsFailure(err: unknown): (Error & { code: string }) | undefined {
  for (const e of [err, (err as { cause?: unknown } | undefined)?.cause]) {
    const code = (e as { code?: unknown } | undefined)?.code
    if (typeof code !== 'string') continue
    if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || VERIFY_CODES.has(code))
      return e as Error & { code: string }
  }
  return undefined
}
