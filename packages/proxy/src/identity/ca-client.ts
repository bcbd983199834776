// The client of meshd's certificate service (`minimesh.security.v1.CertificateService`, 15012):
// gRPC over TLS, meshd's serving certificate verified against the mesh roots for the hostname of
// the address (grpc-js checks the target's host, so `meshd.minimesh-system.svc:15012` must be one
// of its SANs, as must an IP), and the caller's credential in the metadata:
// `authorization: Bearer <projected ServiceAccount token>`. The token file is read for every
// request: the kubelet rewrites it well before it expires.
import { readFile } from 'node:fs/promises'
import * as grpc from '@grpc/grpc-js'
import { type CertificateResponse__Output, type CertificateServiceClient, loadCaProto } from '@minimesh/api'
import { ProxyError } from '../errors.ts'

/** Where workload certificates come from (the gRPC client below; a test may give its own). */
export interface CertificateAuthorityClient {
  /** Sends the CSR; resolves with the PEM chain (leaf first, root last). */
  createCertificate(csrPem: string, validitySeconds: number): Promise<string[]>
  close(): void
}

/** The projected token's path in an injected pod. */
const DEFAULT_TOKEN_FILE = '/var/run/secrets/tokens/minimesh-token'

/** Channel credentials for meshd on 15012: TLS, verified against the mesh roots (no client cert). */
export function meshChannelCredentials(rootsPem: string): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(Buffer.from(rootsPem))
}

/** Reads the token (trimmed); throws MESH_ERR_PROXY_CA_TOKEN saying which file and why. */
async function readToken(tokenFile: string): Promise<string> {
  let token: string
  try {
    token = (await readFile(tokenFile, 'utf8')).trim()
  } catch (cause) {
    throw new ProxyError(
      'MESH_ERR_PROXY_CA_TOKEN',
      `cannot read the ServiceAccount token ${tokenFile} (${(cause as Error).message}); the pod needs the projected volume minimesh-token`,
      { cause },
    )
  }
  if (!token)
    throw new ProxyError('MESH_ERR_PROXY_CA_TOKEN', `the ServiceAccount token ${tokenFile} is empty`)
  return token
}

export interface GrpcCaClientOptions {
  /** `host:port` of meshd's TLS port (15012). */
  address: string
  rootsPem: string
  tokenFile?: string
  /** Deadline of one request (default 10 s). */
  timeoutMs?: number
}

/** Words of a TLS verification failure in grpc-js's "last error" text. */
const TLS_FAILURE = /certificate|self[- ]signed|altnames|handshake|SSL|TLS|issuer/i

/**
 * A connection error to meshd's TLS port, said plainly when it is the handshake that failed
 * (grpc-js passes Node's text on, whose hint about system CAs does not apply to the mesh root).
 */
export function explainTlsFailure(details: string): string {
  if (!TLS_FAILURE.test(details)) return details
  const core = details
    .replace(/; if the root CA is installed locally, try running Node\.js with --use-system-ca\.?/, '')
    .replace(/\s*Resolution note:\s*$/, '')
  return `${core.trimEnd()} — TLS handshake refused: meshd’s serving certificate is not trusted by MESH_CA_ROOT_CERT or does not name this address`
}

function requestError(address: string, err: grpc.ServiceError): ProxyError {
  const raw = err.details || err.message
  const details = err.code === grpc.status.UNAVAILABLE ? explainTlsFailure(raw) : raw
  const hint =
    err.code === grpc.status.UNAUTHENTICATED || err.code === grpc.status.PERMISSION_DENIED
      ? ' — the CA did not accept this pod’s token or identity'
      : ''
  return new ProxyError(
    'MESH_ERR_PROXY_CA_REQUEST',
    `certificate request to ${address} failed: ${grpc.status[err.code] ?? err.code}: ${details}${hint}`,
    { cause: err },
  )
}

/** The real client: one TLS channel, kept for the proxy's life. */
export function grpcCaClient(opts: GrpcCaClientOptions): CertificateAuthorityClient {
  const Client = loadCaProto().minimesh.security.v1.CertificateService
  const client = new Client(opts.address, meshChannelCredentials(opts.rootsPem), {
    'grpc.keepalive_time_ms': 30_000,
  }) as CertificateServiceClient
  const tokenFile = opts.tokenFile ?? DEFAULT_TOKEN_FILE
  const timeoutMs = opts.timeoutMs ?? 10_000
  return {
    async createCertificate(csrPem, validitySeconds) {
      const metadata = new grpc.Metadata()
      metadata.set('authorization', `Bearer ${await readToken(tokenFile)}`)
      const res = await new Promise<CertificateResponse__Output>((resolve, reject) => {
        client.CreateCertificate(
          { csr: csrPem, validity_duration: validitySeconds },
          metadata,
          { deadline: Date.now() + timeoutMs },
          (err, value) => (err ? reject(requestError(opts.address, err)) : resolve(value!)),
        )
      })
      return res.cert_chain
    },
    close() {
      client.close()
    },
  }
}
