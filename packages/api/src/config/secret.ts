import { array, boolean, type Infer, object, optional, string } from '../schema/index.ts'

/**
 * A certificate and key a gateway serves TLS with (Envoy's SDS Secret, sent only to gateway
 * proxies). Named after where it came from: `kubernetes://<namespace>/<credentialName>` for a
 * Gateway server's `credentialName`. For MUTUAL servers it also carries the CA bundle that
 * verifies client certificates (the Secret's `ca.crt`, or the `<credentialName>-cacert` Secret's).
 */
export const secret = object({
  name: string(),
  /** PEM: the server certificate, then its intermediates. */
  certificateChain: string(),
  /** PEM private key of the certificate. */
  privateKey: string(),
  /** PEM CA certificates that client certificates must chain to (MUTUAL). */
  trustedCa: optional(string()),
})
export type Secret = Infer<typeof secret>

/** Node's names for TLS protocol versions, which filter chains carry. */
export const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const
export type TlsVersion = (typeof TLS_VERSIONS)[number]

/**
 * TLS a gateway filter chain terminates: the certificate of `secretName` (a Secret resource),
 * with, for MUTUAL, a client certificate required and verified against its `trustedCa` (and, when
 * given, carrying one of `subjectAltNames`).
 */
export const downstreamTls = object({
  mode: string({ enum: ['SIMPLE', 'MUTUAL'] as const }),
  /** The Secret resource with the certificate, key (and trusted CA). */
  secretName: string(),
  requireClientCertificate: boolean(),
  /** Lowest and highest protocol versions accepted (default TLSv1.2 to TLSv1.3). */
  minVersion: optional(string({ enum: TLS_VERSIONS })),
  maxVersion: optional(string({ enum: TLS_VERSIONS })),
  /** MUTUAL: the client certificate must have one of these SANs (DNS, URI, IP or email). */
  subjectAltNames: optional(array(string())),
})
export type DownstreamTls = Infer<typeof downstreamTls>
