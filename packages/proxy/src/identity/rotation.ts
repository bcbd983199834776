// Keeps this workload's certificate current: asks the CA for the first one at start, then for a
// new one (new key, new CSR) when half of the current one's lifetime has passed. A failed request
// is retried with jittered exponential backoff while the current certificate keeps serving: the
// store changes only when a new chain is in and checked. Failures are logged and counted
// (/stats/prometheus, /certs); the expiry is exposed.
import type { Logger } from 'pino'
import type { CertificateAuthorityClient } from './ca-client.ts'
import type { CertificateStore, WorkloadCertificate } from './certificates.ts'
import { type ChainCheck, checkChain } from './chain.ts'
import { createKeyAndCsr } from './csr.ts'

export interface CertificateRotatorOptions {
  store: CertificateStore
  ca: CertificateAuthorityClient
  /** `spiffe://cluster.local/ns/<ns>/sa/<sa>`. */
  spiffeId: string
  rootsPem: string
  log: Logger
  /** Requested lifetime in seconds; 0 = the CA's default (24 h). */
  ttlSeconds?: number
  /** Renew when this fraction of the lifetime has passed (default 0.5, Istio's). */
  renewFraction?: number
  /** Retry backoff after a failed request (defaults 1 s doubling up to 60 s, jittered). */
  initialBackoffMs?: number
  maxBackoffMs?: number
}

export interface RotationStatus {
  spiffeId: string
  /** When the current certificate expires (undefined before the first). */
  expiry: Date | undefined
  /** When the next request is due (renewal, or the retry after a failure). */
  nextAttempt: Date | undefined
  requests: number
  failures: number
  /** Certificates installed after the first. */
  rotations: number
  /** Failures since the last success (0 when the last request succeeded). */
  consecutiveFailures: number
  lastError: string | undefined
}

/** setTimeout's largest delay (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1

export class CertificateRotator {
  readonly #o: Required<Omit<CertificateRotatorOptions, 'ttlSeconds'>> & { ttlSeconds: number }
  #timer: NodeJS.Timeout | undefined
  #backoff: number
  #next: Date | undefined
  #closed = false
  #inFlight: Promise<void> | undefined
  readonly #waiters: (() => void)[] = []
  readonly stats = {
    requests: 0,
    failures: 0,
    rotations: 0,
    consecutiveFailures: 0,
    lastError: undefined as string | undefined,
  }

  constructor(options: CertificateRotatorOptions) {
    this.#o = {
      ttlSeconds: 0,
      renewFraction: 0.5,
      initialBackoffMs: 1000,
      maxBackoffMs: 60_000,
      ...options,
    }
    this.#backoff = this.#o.initialBackoffMs
  }

  /** Asks for the first certificate now (and keeps renewing until `close`). */
  start(): void {
    this.#schedule(0)
  }

  /** Resolves once a certificate is in the store. */
  whenReady(): Promise<void> {
    if (this.#o.store.current) return Promise.resolve()
    return new Promise((resolve) => this.#waiters.push(resolve))
  }

  /** The current certificate's expiry. */
  get expiry(): Date | undefined {
    return this.#o.store.current?.notAfter
  }

  get status(): RotationStatus {
    return {
      spiffeId: this.#o.spiffeId,
      expiry: this.expiry,
      nextAttempt: this.#next,
      ...this.stats,
    }
  }

  /** Requests a certificate now (the timer's job; tests and admin may call it too). */
  rotate(): Promise<void> {
    this.#inFlight ??= this.#attempt().finally(() => {
      this.#inFlight = undefined
    })
    return this.#inFlight
  }

  async #attempt(): Promise<void> {
    if (this.#closed) return
    const { store, ca, spiffeId, rootsPem, log } = this.#o
    this.stats.requests++
    let cert: WorkloadCertificate
    try {
      const { keyPem, csrPem, publicKeySpki } = await createKeyAndCsr(spiffeId)
      const chain = await ca.createCertificate(csrPem, this.#o.ttlSeconds)
      const want: ChainCheck = { spiffeId, keyPem, publicKeySpki, rootsPem }
      cert = checkChain(chain, want)
    } catch (err) {
      if (this.#closed) return
      this.stats.failures++
      this.stats.consecutiveFailures++
      this.stats.lastError = (err as Error).message
      const delay = Math.round(this.#backoff * (0.5 + Math.random() * 0.5))
      this.#backoff = Math.min(this.#backoff * 2, this.#o.maxBackoffMs)
      const current = store.current
      log.warn(
        {
          err,
          retryInMs: delay,
          failures: this.stats.consecutiveFailures,
          ...(current
            ? { serving: 'previous certificate', expiresAt: current.notAfter.toISOString() }
            : { serving: 'no certificate yet' }),
        },
        current && current.notAfter <= new Date()
          ? 'workload certificate request failed and the current certificate has EXPIRED; retrying'
          : 'workload certificate request failed; retrying',
      )
      this.#schedule(delay)
      return
    }
    if (this.#closed) return
    const first = store.current === undefined
    store.set(cert)
    if (!first) this.stats.rotations++
    this.stats.consecutiveFailures = 0
    this.#backoff = this.#o.initialBackoffMs
    // Half of what is left of its lifetime from now: half-life for a certificate that starts now,
    // and a CA that backdates notBefore (clock skew) does not make the proxy renew at once.
    const now = Date.now()
    const renewIn = Math.max(0, (cert.notAfter.getTime() - now) * this.#o.renewFraction)
    log.info(
      {
        spiffeId,
        notBefore: cert.notBefore.toISOString(),
        notAfter: cert.notAfter.toISOString(),
        renewAt: new Date(now + renewIn).toISOString(),
      },
      first ? 'workload certificate installed' : 'workload certificate rotated',
    )
    for (const w of this.#waiters.splice(0)) w()
    this.#schedule(renewIn)
  }

  #schedule(delayMs: number): void {
    if (this.#closed) return
    if (this.#timer) clearTimeout(this.#timer)
    const delay = Math.min(delayMs, MAX_TIMER_MS)
    this.#next = new Date(Date.now() + delay)
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      void this.rotate()
    }, delay)
    this.#timer.unref()
  }

  /** Prometheus text (Istio's agent reports the same as istio_agent_*). */
  metrics(): string {
    const { requests, failures, rotations } = this.stats
    const expiry = this.expiry
    const lines = [
      '# HELP minimesh_agent_cert_requests_total Certificate signing requests sent to the CA.',
      '# TYPE minimesh_agent_cert_requests_total counter',
      `minimesh_agent_cert_requests_total ${requests}`,
      '# HELP minimesh_agent_cert_request_failures_total Certificate requests that failed (CA unreachable, refused, or a bad chain).',
      '# TYPE minimesh_agent_cert_request_failures_total counter',
      `minimesh_agent_cert_request_failures_total ${failures}`,
      '# HELP minimesh_agent_cert_rotations_total Certificates installed after the first.',
      '# TYPE minimesh_agent_cert_rotations_total counter',
      `minimesh_agent_cert_rotations_total ${rotations}`,
    ]
    if (expiry)
      lines.push(
        '# HELP minimesh_agent_cert_expiry_seconds Seconds until the workload certificate expires.',
        '# TYPE minimesh_agent_cert_expiry_seconds gauge',
        `minimesh_agent_cert_expiry_seconds ${((expiry.getTime() - Date.now()) / 1000).toFixed(3)}`,
      )
    return `${lines.join('\n')}\n`
  }

  close(): void {
    this.#closed = true
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#next = undefined
    this.#o.ca.close()
  }
}
