// Errors of @minimesh/proxy. Callers match on `code`; `cause` keeps what went wrong underneath.
import { defineCodes, MeshError } from '@minimesh/api/errors'

const PROXY_ERRORS = defineCodes({
  /** A configuration resource failed validation or a cross-reference check (becomes a NACK). */
  MESH_ERR_PROXY_CONFIG_INVALID: {},
  /** The static configuration file could not be read or parsed. */
  MESH_ERR_PROXY_CONFIG_FILE: {},
  /** A command-line flag or option is wrong. */
  MESH_ERR_PROXY_BAD_OPTION: {},
  /** A listener could not bind its port. */
  MESH_ERR_PROXY_LISTEN: {},
  /** The inbound policy hook (quota, authorization) threw or rejected: the request gets 500. */
  MESH_ERR_PROXY_POLICY: {},
  /** The downstream request broke off while the proxy read it (client gone): no reply is possible. */
  MESH_ERR_PROXY_DOWNSTREAM_RESET: {},
  /** A downstream HTTP/1.1 request broke the protocol (http/h1-request.ts): 400, never forwarded. */
  MESH_ERR_PROXY_BAD_REQUEST: {},
  /** An upstream HTTP/1.1 response broke the protocol (h1-response.ts): the connection is closed. */
  MESH_ERR_PROXY_UPSTREAM_PROTOCOL: {},
  /** A request the proxy would send upstream is not valid HTTP/1.1 (a header value with CR or LF, …). */
  MESH_ERR_PROXY_UPSTREAM_REQUEST: {},
  /** A request stage failed in a way it did not expect: the request gets 500 and an error log. */
  MESH_ERR_PROXY_STAGE: {},
  /** The mesh roots (MESH_CA_ROOT_CERT) are missing, unreadable or not PEM certificates. */
  MESH_ERR_PROXY_CA_ROOTS: {},
  /** The ServiceAccount token for the CA could not be read. */
  MESH_ERR_PROXY_CA_TOKEN: {},
  /** The CA refused or failed a certificate request, or could not be reached (retried with backoff). */
  MESH_ERR_PROXY_CA_REQUEST: {},
  /** The CA's answer is not a usable chain for this workload (wrong key, identity, signer or dates). */
  MESH_ERR_PROXY_CA_CHAIN: {},
  /** The SO_ORIGINAL_DST addon is not built (`make native`). */
  MESH_ERR_PROXY_NATIVE_MISSING: {},
  /** The kernel refused SO_ORIGINAL_DST (`cause.code` is the errno name). */
  MESH_ERR_PROXY_ORIGINAL_DST: {},
  /** A socket without a file descriptor (not a connected TCP socket). */
  MESH_ERR_PROXY_NO_FD: {},
})
export type ProxyErrorCode = keyof typeof PROXY_ERRORS

export class ProxyError extends MeshError<ProxyErrorCode> {
  static override readonly codes = PROXY_ERRORS
}

/** A configuration rejection: the message names the resource and the field path (sent as NACK error_detail). */
export class ConfigError extends ProxyError {
  readonly resource: string
  constructor(resource: string, message: string, options?: { cause?: unknown }) {
    super('MESH_ERR_PROXY_CONFIG_INVALID', message, options)
    this.resource = resource
  }
}

export type ProxyNativeErrorCode = Extract<
  ProxyErrorCode,
  'MESH_ERR_PROXY_NATIVE_MISSING' | 'MESH_ERR_PROXY_ORIGINAL_DST' | 'MESH_ERR_PROXY_NO_FD'
>

/** Errors from the native SO_ORIGINAL_DST helper; `cause` holds the kernel's errno error. */
export class ProxyNativeError extends MeshError<ProxyNativeErrorCode> {
  static override readonly codes = PROXY_ERRORS
}
