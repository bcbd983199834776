// Errors of @minimesh/proxy. Callers match on `code`; `cause` keeps what went wrong underneath.
// (The native SO_ORIGINAL_DST helper has its own ProxyNativeError in native/original-dst.ts.)

export type ProxyErrorCode =
  /** A configuration resource failed validation or a cross-reference check (becomes a NACK). */
  | 'MESH_ERR_PROXY_CONFIG_INVALID'
  /** The static configuration file could not be read or parsed. */
  | 'MESH_ERR_PROXY_CONFIG_FILE'
  /** A command-line flag or option is wrong. */
  | 'MESH_ERR_PROXY_BAD_OPTION'
  /** A listener could not bind its port. */
  | 'MESH_ERR_PROXY_LISTEN'
  /** The discovery stream failed (it is retried with backoff). */
  | 'MESH_ERR_XDS_STREAM'
  /** Upstream failures, as seen by the forwarding code. */
  | 'MESH_ERR_PROXY_UPSTREAM_CONNECT'
  | 'MESH_ERR_PROXY_UPSTREAM_RESET'
  | 'MESH_ERR_PROXY_UPSTREAM_TIMEOUT'
  | 'MESH_ERR_PROXY_OVERFLOW'
  | 'MESH_ERR_PROXY_NO_HEALTHY_UPSTREAM'
  /** The inbound policy hook (quota, authorization) threw or rejected: the request gets 500. */
  | 'MESH_ERR_PROXY_POLICY'
  /** The downstream request broke off while the proxy read it (client gone): no reply is possible. */
  | 'MESH_ERR_PROXY_DOWNSTREAM_RESET'
  /** A request stage failed in a way it did not expect: the request gets 500 and an error log. */
  | 'MESH_ERR_PROXY_STAGE'
  /** The mesh roots (MESH_CA_ROOT_CERT) are missing, unreadable or not PEM certificates. */
  | 'MESH_ERR_PROXY_CA_ROOTS'
  /** The ServiceAccount token for the CA could not be read. */
  | 'MESH_ERR_PROXY_CA_TOKEN'
  /** The CA refused or failed a certificate request, or could not be reached (retried with backoff). */
  | 'MESH_ERR_PROXY_CA_REQUEST'
  /** The CA's answer is not a usable chain for this workload (wrong key, identity, signer or dates). */
  | 'MESH_ERR_PROXY_CA_CHAIN'

export class ProxyError extends Error {
  readonly code: ProxyErrorCode
  constructor(code: ProxyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ProxyError'
    this.code = code
  }
}

/** A configuration rejection: the message names the resource and the field path (sent as NACK error_detail). */
export class ConfigError extends ProxyError {
  readonly resource: string
  constructor(resource: string, message: string, options?: { cause?: unknown }) {
    super('MESH_ERR_PROXY_CONFIG_INVALID', message, options)
    this.name = 'ConfigError'
    this.resource = resource
  }
}
