// meshd's own TLS certificate for 15012, signed by the mesh CA (as istiod signs its own when it is
// the CA): SANs meshd's Service DNS names, localhost, 127.0.0.1 and the pod IP. Re-issued at half
// its life; gRPC picks up each new one through a certificate provider, connections stay open.
import * as grpc from '@grpc/grpc-js'
import type { Logger } from 'pino'
import type { CertificateAuthority, IssuedServingCertificate } from './authority.ts'

type IdentityListener = grpc.experimental.IdentityCertificateUpdateListener
type CaListener = grpc.experimental.CaCertificateUpdateListener

/** meshd's serving names: the Service's DNS names in `namespace`, localhost, 127.0.0.1, the pod IP. */
export function servingNames(
  options: { service?: string; namespace?: string; podIp?: string } = {},
): string[] {
  const name = options.service ?? 'meshd'
  const ns = options.namespace ?? 'minimesh-system'
  const names = [
    name,
    `${name}.${ns}`,
    `${name}.${ns}.svc`,
    `${name}.${ns}.svc.cluster.local`,
    'localhost',
    '127.0.0.1',
  ]
  if (options.podIp && !names.includes(options.podIp)) names.push(options.podIp)
  return names
}

export class ServingCertificate implements grpc.experimental.CertificateProvider {
  private current?: IssuedServingCertificate
  private readonly listeners = new Set<IdentityListener>()
  private timer?: NodeJS.Timeout
  private readonly ca: CertificateAuthority
  private readonly names: string[]
  private readonly ttlSeconds: number
  private readonly log?: Logger

  constructor(ca: CertificateAuthority, names: string[], ttlSeconds: number, log?: Logger) {
    this.ca = ca
    this.names = names
    this.ttlSeconds = ttlSeconds
    this.log = log
  }

  /** Issues the first certificate and schedules the next ones. */
  async start(): Promise<void> {
    await this.rotate()
    if (!this.current) {
      this.close()
      throw new Error("cannot issue meshd's serving certificate (see the log)")
    }
  }

  get certificate(): IssuedServingCertificate | undefined {
    return this.current
  }

  /** gRPC server credentials that follow this certificate (no client certificate asked for). */
  credentials(): grpc.ServerCredentials {
    return grpc.experimental.createCertificateProviderServerCredentials(this, null, false)
  }

  async rotate(): Promise<void> {
    clearTimeout(this.timer)
    try {
      this.current = await this.ca.issueServing({ names: this.names, ttlSeconds: this.ttlSeconds })
      const update = {
        certificate: Buffer.from(this.current.certChainPem),
        privateKey: Buffer.from(this.current.keyPem),
      }
      for (const l of this.listeners) l(update)
      this.log?.info({ names: this.names, notAfter: this.current.notAfter }, 'ca: serving certificate issued')
      const halfLife = Math.max(1000, (this.current.notAfter.getTime() - Date.now()) / 2)
      this.timer = setTimeout(() => void this.rotate(), halfLife).unref()
    } catch (err) {
      // Keep serving the current one; try again in a minute.
      this.log?.error({ err }, 'ca: cannot issue the serving certificate; retrying in 60 s')
      this.timer = setTimeout(() => void this.rotate(), 60_000).unref()
    }
  }

  close(): void {
    clearTimeout(this.timer)
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.listeners.add(listener)
    // Not synchronously: grpc-js registers its watcher only after this returns, so a synchronous
    // first update would be lost and every connection dropped.
    queueMicrotask(() => {
      if (this.current && this.listeners.has(listener))
        listener({
          certificate: Buffer.from(this.current.certChainPem),
          privateKey: Buffer.from(this.current.keyPem),
        })
    })
  }
  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.listeners.delete(listener)
  }
  addCaCertificateListener(_listener: CaListener): void {}
  removeCaCertificateListener(_listener: CaListener): void {}
}
