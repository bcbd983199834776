// Mesh mTLS from this sidecar to another (Istio's ISTIO_MUTUAL and auto mTLS): which endpoints get
// it, the identity the server must prove, and the `tls.connect` options made from this workload's
// certificate (ctx.certs). The server's chain is verified against the mesh roots in the secure
// context; its URI SAN must be the endpoint's SPIFFE id (or one of the cluster's subjectAltNames).
// Without a certificate yet, connections stay plaintext.
import type { ConnectionOptions, PeerCertificate, SecureContext, TLSSocket } from 'node:tls'
import type { Cluster, LbEndpoint } from '@minimesh/api'
import { principalOf } from '../identity/certificates.ts'

/**
 * ALPN offered to a mesh peer. Istio's Envoy offers `istio-peer-exchange`/`istio-http/1.1`/
 * `istio-h2` (and its inbound chains match them); minimesh's sidecars negotiate plain `h2` or
 * `http/1.1` (undici picks HTTP/2 by it) plus `minimesh`, which marks a mesh peer and is what a
 * TCP connection gets.
 */
const MESH_ALPN = 'minimesh'
export const CLIENT_ALPN = {
  http: ['http/1.1', MESH_ALPN],
  http2: ['h2', MESH_ALPN],
  tcp: [MESH_ALPN],
} as const
/** What an inbound capture chain accepts (its preference first). */
export const SERVER_ALPN = ['h2', 'http/1.1', MESH_ALPN]

const TRUST_DOMAIN = 'cluster.local'

/** How a cluster's hosts are secured: 'all' (ISTIO_MUTUAL), 'auto' (by endpoint tlsMode), 'off'. */
export type MeshTlsPolicy = 'all' | 'auto' | 'off'

export function meshTlsPolicy(cluster: Cluster): MeshTlsPolicy {
  const mode = cluster.tls?.mode
  if (mode === 'ISTIO_MUTUAL') return 'all'
  // ORIGINAL_DST (passthrough) hosts carry no endpoint metadata; explicit DestinationRule tls
  // (DISABLE, SIMPLE, MUTUAL) turns auto mTLS off.
  if (mode !== undefined || cluster.type === 'ORIGINAL_DST') return 'off'
  return 'auto'
}

/** Does a request to this endpoint go over mesh mTLS (given a certificate)? */
export function endpointWantsMeshTls(policy: MeshTlsPolicy, ep: LbEndpoint): boolean {
  return policy === 'all' || (policy === 'auto' && ep.tlsMode === 'istio')
}

/**
 * The URI SANs the server may present: the cluster's subjectAltNames, else the endpoint's SPIFFE
 * id from its namespace and service account; undefined when neither is known (any certificate
 * the mesh roots verify is taken).
 */
export function expectedPeerIds(cluster: Cluster, ep: LbEndpoint): readonly string[] | undefined {
  const sans = cluster.tls?.subjectAltNames
  if (sans?.length) return sans
  if (ep.serviceAccount && (ep.namespace ?? cluster.service?.namespace))
    return [
      `spiffe://${TRUST_DOMAIN}/ns/${ep.namespace ?? cluster.service?.namespace}/sa/${ep.serviceAccount}`,
    ]
  return undefined
}

/** The URI SANs in a certificate's subject alt names (`URI:spiffe://…, DNS:…`; Node quotes odd values). */
function uriSans(text: string | undefined): string[] {
  if (!text) return []
  const out: string[] = []
  for (const m of text.matchAll(/URI:("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g)) {
    const raw = m[1] ?? ''
    out.push(raw.startsWith('"') ? (JSON.parse(raw) as string) : raw)
  }
  return out
}

/** The mesh principal (`cluster.local/ns/<ns>/sa/<sa>`) of a verified peer certificate, if it has a SPIFFE id. */
/**
 * The verified peer's principal on a secured socket (undefined when not authorized or without a
 * SPIFFE id). The X509Certificate object parses lazily: only the SANs are read (the legacy
 * getPeerCertificate() computes three fingerprints and more for every connection).
 */
export function peerPrincipalOf(socket: TLSSocket): string | undefined {
  if (!socket.authorized) return undefined
  const id = uriSans(socket.getPeerX509Certificate()?.subjectAltName).find((u) => u.startsWith('spiffe://'))
  return id === undefined ? undefined : principalOf(id)
}

/** checkServerIdentity for mesh peers: the certificate must carry one of the wanted URI SANs. */
function meshIdentityCheck(
  wanted: readonly string[] | undefined,
): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    const have = uriSans(cert.subjectaltname)
    if (!wanted) {
      if (have.some((u) => u.startsWith('spiffe://'))) return undefined
    } else if (have.some((u) => wanted.includes(u))) return undefined
    return Object.assign(
      new Error(
        `the peer's identity (${have.join(', ') || 'no URI SAN'}) is not ${wanted ? wanted.join(' or ') : 'a mesh identity'}`,
      ),
      { code: 'ERR_TLS_CERT_ALTNAME_INVALID' },
    )
  }
}

/** Istio's SNI for a mesh connection: `outbound_.<port>_.<subset>_.<host>`. */
function meshSni(cluster: Cluster): string | undefined {
  if (cluster.tls?.sni) return cluster.tls.sni
  const s = cluster.service
  return s ? `outbound_.${s.port}_.${s.subset ?? ''}_.${s.host}` : undefined
}

/** `tls.connect` options for a mesh mTLS connection to one endpoint. */
export function meshConnectOptions(
  secureContext: SecureContext,
  cluster: Cluster,
  ep: LbEndpoint,
  alpn: readonly string[],
): ConnectionOptions {
  const servername = meshSni(cluster)
  return {
    secureContext,
    ALPNProtocols: [...alpn],
    rejectUnauthorized: true,
    checkServerIdentity: meshIdentityCheck(expectedPeerIds(cluster, ep)),
    ...(servername ? { servername } : {}),
  }
}
