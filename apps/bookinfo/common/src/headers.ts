import type { IncomingHttpHeaders } from 'node:http'

/**
 * Request headers a Bookinfo service copies from the request it is serving onto the requests it
 * makes, so that a trace and the caller's identity follow the call through the mesh: Istio's and
 * Envoy's request id, W3C trace context, Zipkin B3 (multi- and single-header), and the common
 * vendor trace headers, plus the cookie, authorization and user agent of the original caller.
 */
export const PROPAGATED_HEADERS: readonly string[] = [
  'x-request-id',
  'traceparent',
  'tracestate',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
  'b3',
  'x-ot-span-context',
  'x-cloud-trace-context',
  'grpc-trace-bin',
  'sw8',
  'x-datadog-trace-id',
  'x-datadog-parent-id',
  'x-datadog-sampling-priority',
  'cookie',
  'authorization',
  'jwt',
  'user-agent',
]

/** The header that carries the signed-in user; routing rules match on it (`end-user: jason`). */
export const END_USER_HEADER = 'end-user'

/**
 * Picks `names` from incoming request headers. Repeated headers are joined the way HTTP allows
 * (`; ` for cookies, `, ` otherwise); absent ones are left out.
 */
export function pickHeaders(
  incoming: IncomingHttpHeaders,
  names: readonly string[] = PROPAGATED_HEADERS,
): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of names) {
    const value = incoming[name]
    if (value === undefined) continue
    out[name] = Array.isArray(value) ? value.join(name === 'cookie' ? '; ' : ', ') : value
  }
  return out
}
