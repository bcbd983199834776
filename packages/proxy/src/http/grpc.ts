// gRPC over the proxy: recognising a gRPC request, answering it locally the way a gRPC client
// understands (HTTP 200 with `grpc-status` and `grpc-message` in a headers-only response, the
// status mapped from the HTTP one as in gRPC's HTTP-to-gRPC table that Envoy uses), and reading
// the `grpc-status` of a trailers-only response for retries.

/** gRPC status codes the proxy names. */
export const GrpcStatus = {
  Ok: 0,
  Cancelled: 1,
  Unknown: 2,
  DeadlineExceeded: 4,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  Unauthenticated: 16,
} as const

/** Is this the content type of a gRPC request (application/grpc, application/grpc+proto, …)? */
export function isGrpcContentType(ct: string | string[] | undefined): boolean {
  if (typeof ct !== 'string' || !ct.startsWith('application/grpc')) return false
  const next = ct.charCodeAt(16)
  // Exactly application/grpc, or a subtype (`+proto`) or parameters; not application/grpc-web.
  return Number.isNaN(next) || next === 0x2b /* + */ || next === 0x3b /* ; */
}

/** The gRPC status a client reads from an HTTP status without grpc-status. */
export function httpToGrpcStatus(status: number): number {
  switch (status) {
    case 400:
      return GrpcStatus.Internal
    case 401:
      return GrpcStatus.Unauthenticated
    case 403:
      return GrpcStatus.PermissionDenied
    case 404:
      return GrpcStatus.Unimplemented
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcStatus.Unavailable
    default:
      return GrpcStatus.Unknown
  }
}

/** grpc-message is percent-encoded: bytes outside printable ASCII, and '%' itself. */
export function encodeGrpcMessage(text: string): string {
  let out = ''
  for (const b of Buffer.from(text, 'utf8')) {
    out +=
      b >= 0x20 && b <= 0x7e && b !== 0x25
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/** Response headers of a local reply to a gRPC request (sent with HTTP 200 and no body). */
export function grpcReplyHeaders(status: number, message: string, requestId: string): string[] {
  return [
    'content-type',
    'application/grpc',
    'grpc-status',
    String(httpToGrpcStatus(status)),
    'grpc-message',
    encodeGrpcMessage(message),
    'x-request-id',
    requestId,
  ]
}

/** The grpc-status of a response's headers (a trailers-only response carries it there). */
export function grpcStatusOf(headers: Record<string, string | string[] | undefined>): number | undefined {
  const v = headers['grpc-status']
  if (typeof v !== 'string') return undefined
  const n = Number(v)
  return Number.isInteger(n) ? n : undefined
}
