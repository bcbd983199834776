/** Application protocols a service port can carry; `grpc` travels as HTTP/2. */
export type Protocol = 'http' | 'http2' | 'grpc' | 'tcp'

const BY_APP_PROTOCOL: Record<string, Protocol> = {
  http: 'http',
  http2: 'http2',
  'kubernetes.io/h2c': 'http2',
  grpc: 'grpc',
  'grpc-web': 'http',
  tcp: 'tcp',
}

const PREFIXES: readonly [string, Protocol][] = [
  ['http2', 'http2'],
  ['grpc-web', 'http'],
  ['grpc', 'grpc'],
  ['http', 'http'],
  ['tcp', 'tcp'],
]

/**
 * The protocol of a Service port, Istio's way: `appProtocol` first, else the port name
 * (`http`, `http-web`, `http2`, `grpc`, `tcp-db`, …). minimesh does not sniff protocols, so an
 * unnamed or unknown port is opaque TCP.
 */
export function portProtocol(name: string | undefined, appProtocol: string | undefined): Protocol {
  if (appProtocol) {
    const p = BY_APP_PROTOCOL[appProtocol.toLowerCase()]
    if (p) return p
  }
  const n = (name ?? '').toLowerCase()
  for (const [prefix, protocol] of PREFIXES) {
    if (n === prefix || n.startsWith(`${prefix}-`)) return protocol
  }
  return 'tcp'
}

/** True for protocols the proxy routes by HTTP request (virtual hosts, routes). */
export function isHttp(protocol: Protocol): boolean {
  return protocol !== 'tcp'
}

/** The cluster protocol: HTTP/1.1, HTTP/2 (grpc too) or TCP. */
export function clusterProtocol(protocol: Protocol): 'http' | 'http2' | 'tcp' {
  return protocol === 'grpc' ? 'http2' : protocol
}
