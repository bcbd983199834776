// The certificate service (`minimesh.security.v1.CertificateService`): a proxy sends a CSR and its
// ServiceAccount token; meshd answers with a certificate for the token's identity. Errors become
// gRPC statuses with the reason: UNAUTHENTICATED (no TLS, no or bad token), PERMISSION_DENIED
// (the CSR asks for another identity), INVALID_ARGUMENT (bad CSR or validity).
import * as grpc from '@grpc/grpc-js'
import {
  type CertificateRequest__Output,
  type CertificateResponse,
  type CertificateServiceHandlers,
  loadCaProto,
} from '@minimesh/api'
import type { Logger } from 'pino'
import { ControlPlaneError } from '../errors.ts'
import type { Metrics } from '../monitoring/metrics.ts'
import { type CertificateAuthority, spiffeId } from './authority.ts'
import type { TokenAuthenticator } from './tokens.ts'

export interface CertificateServiceOptions {
  ca: CertificateAuthority
  /** How callers' tokens are checked; without one every call is UNAUTHENTICATED (logged at start). */
  authenticator?: TokenAuthenticator
  /** Validity when the request asks for 0 (`--workload-cert-ttl`, default 24 h). */
  defaultTtlSeconds?: number
  /** Longest validity granted (`--max-workload-cert-ttl`, default 90 days); longer asks are capped. */
  maxTtlSeconds?: number
  metrics?: Metrics
  logger?: Logger
}

export const DEFAULT_WORKLOAD_CERT_TTL_SECONDS = 24 * 3600
const DEFAULT_MAX_WORKLOAD_CERT_TTL_SECONDS = 90 * 24 * 3600

type Reason = 'unauthenticated' | 'identity_mismatch' | 'bad_csr' | 'not_tls' | 'internal'

class Refusal extends Error {
  readonly code: grpc.status
  readonly reason: Reason
  constructor(code: grpc.status, reason: Reason, message: string) {
    super(message)
    this.code = code
    this.reason = reason
  }
}

/** The bearer token of `authorization: Bearer <jwt>`. */
function bearerToken(metadata: grpc.Metadata): string {
  const values = metadata.get('authorization')
  if (values.length === 0)
    throw new Refusal(
      grpc.status.UNAUTHENTICATED,
      'unauthenticated',
      'no authorization metadata (Bearer token)',
    )
  const m = /^Bearer\s+(\S+)$/i.exec(String(values[0]))
  if (!m)
    throw new Refusal(
      grpc.status.UNAUTHENTICATED,
      'unauthenticated',
      'the authorization metadata is not "Bearer <token>"',
    )
  return m[1]!
}

/** Adds the certificate service to a gRPC server (meshd's, before it listens). */
export function addCertificateService(server: grpc.Server, options: CertificateServiceOptions): void {
  const log = options.logger
  const metrics = options.metrics
  const defaultTtl = options.defaultTtlSeconds ?? DEFAULT_WORKLOAD_CERT_TTL_SECONDS
  const maxTtl = options.maxTtlSeconds ?? DEFAULT_MAX_WORKLOAD_CERT_TTL_SECONDS

  const create = async (
    call: grpc.ServerUnaryCall<CertificateRequest__Output, CertificateResponse>,
  ): Promise<CertificateResponse> => {
    const token = bearerToken(call.metadata)
    if (!options.authenticator)
      throw new Refusal(
        grpc.status.UNAUTHENTICATED,
        'unauthenticated',
        'meshd cannot verify tokens here (no Kubernetes TokenReview and no --token-jwks)',
      )
    let caller: Awaited<ReturnType<TokenAuthenticator['authenticate']>>
    try {
      caller = await options.authenticator.authenticate(token)
    } catch (err) {
      throw new Refusal(
        grpc.status.UNAUTHENTICATED,
        'unauthenticated',
        `invalid token: ${(err as Error).message}`,
      )
    }
    const requested = Number(call.request.validity_duration || 0)
    if (!Number.isSafeInteger(requested) || requested < 0)
      throw new Refusal(
        grpc.status.INVALID_ARGUMENT,
        'bad_csr',
        `validity_duration ${call.request.validity_duration} is not a number of seconds ≥ 0`,
      )
    const ttlSeconds = Math.min(requested || defaultTtl, maxTtl)
    const id = spiffeId(caller.namespace, caller.serviceAccount)
    try {
      const chain = await options.ca.sign(call.request.csr, { spiffeId: id, ttlSeconds })
      log?.info(
        { identity: id, pod: caller.pod?.name, ttlSeconds, requested: requested || undefined },
        'ca: certificate issued',
      )
      return { cert_chain: chain }
    } catch (err) {
      if (err instanceof ControlPlaneError && err.code === 'MESH_ERR_CA_IDENTITY')
        throw new Refusal(grpc.status.PERMISSION_DENIED, 'identity_mismatch', err.message)
      if (err instanceof ControlPlaneError && err.code === 'MESH_ERR_CA_CSR')
        throw new Refusal(grpc.status.INVALID_ARGUMENT, 'bad_csr', err.message)
      throw err
    }
  }

  const handlers: CertificateServiceHandlers = {
    CreateCertificate(call, callback) {
      metrics?.caRequests.inc()
      create(call).then(
        (response) => {
          metrics?.caIssued.inc()
          callback(null, response)
        },
        (err: unknown) => {
          const r =
            err instanceof Refusal
              ? err
              : new Refusal(grpc.status.INTERNAL, 'internal', `cannot sign: ${(err as Error).message}`)
          metrics?.caRefused.inc({ reason: r.reason })
          const level = r.reason === 'internal' ? 'error' : 'warn'
          log?.[level]({ reason: r.reason, peer: call.getPeer(), err: r.message }, 'ca: certificate refused')
          callback({ code: r.code, details: r.message })
        },
      )
    },
  }
  server.addService(loadCaProto().minimesh.security.v1.CertificateService.service, handlers)
}

const CA_PATH = '/minimesh.security.v1.CertificateService/'

/**
 * Credentials for a plaintext port that serves everything but the certificate service: a bearer
 * token must not cross the network in clear, so certificate requests there are refused
 * (UNAUTHENTICATED) before any handler sees them. meshd binds 15010 with these.
 */
export function plaintextWithoutCa(metrics?: Metrics): grpc.ServerCredentials {
  const guard: grpc.ServerInterceptor = (method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        if (!method.path.startsWith(CA_PATH)) return next()
        next({
          onReceiveMetadata: () => {
            metrics?.caRefused.inc({ reason: 'not_tls' })
            call.sendStatus({
              code: grpc.status.UNAUTHENTICATED,
              details: 'the certificate service answers only over TLS (meshd port 15012)',
            })
          },
          onReceiveMessage: () => {},
          onReceiveHalfClose: () => {},
        })
      },
    })
  return grpc.experimental.createServerCredentialsWithInterceptors(grpc.ServerCredentials.createInsecure(), [
    guard,
  ])
}
