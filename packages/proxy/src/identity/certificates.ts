// This workload's mesh certificate: the key made in the pod, the chain meshd's CA signed for it,
// and the mesh trust roots. Whoever obtains certificates (the CSR client) calls `set`; whoever uses
// them (mTLS on both sides, the admin's secret dump) reads `current` and the secure contexts,
// which are made once per certificate and replaced on rotation: connections already open keep the
// certificate they were made with, new ones take the new one.
import { EventEmitter } from 'node:events'
import { createSecureContext, type SecureContext } from 'node:tls'

export interface WorkloadCertificate {
  /** `spiffe://cluster.local/ns/<ns>/sa/<sa>`: the certificate's only URI SAN. */
  spiffeId: string
  /** PEM, leaf first, then the intermediates up to (not necessarily including) the root. */
  certChainPem: string
  /** PEM (PKCS#8) private key; made in the pod, never sent anywhere. */
  keyPem: string
  /** PEM mesh trust roots (peers' chains are verified against these). */
  rootsPem: string
  notBefore: Date
  notAfter: Date
}

export interface CertificateStoreEvents {
  change: [cert: WorkloadCertificate]
}

/** The policy principal of a SPIFFE id: `spiffe://cluster.local/ns/a/sa/b` → `cluster.local/ns/a/sa/b`. */
export function principalOf(spiffeId: string): string {
  return spiffeId.startsWith('spiffe://') ? spiffeId.slice('spiffe://'.length) : spiffeId
}

export class CertificateStore extends EventEmitter<CertificateStoreEvents> {
  #cert: WorkloadCertificate | undefined
  #context: SecureContext | undefined

  /** The certificate in use; undefined until the first one is in. */
  get current(): WorkloadCertificate | undefined {
    return this.#cert
  }

  /** This workload's principal (`cluster.local/ns/<ns>/sa/<sa>`), once it has a certificate. */
  get principal(): string | undefined {
    return this.#cert && principalOf(this.#cert.spiffeId)
  }

  /** Installs a (new) certificate; the old one serves until this call. */
  set(cert: WorkloadCertificate): void {
    const context = createSecureContext({ cert: cert.certChainPem, key: cert.keyPem, ca: cert.rootsPem })
    this.#cert = cert
    this.#context = context
    this.emit('change', cert)
  }

  /**
   * The secure context for both sides of mTLS (own chain and key, mesh roots as CA); the same
   * object until the next `set`. Undefined until the first certificate.
   */
  get secureContext(): SecureContext | undefined {
    return this.#context
  }
}
