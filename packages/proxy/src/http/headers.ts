// Header handling on the hot path. Headers travel as flat arrays [name, value, name, value, …]
// with lower-case names (what undici and `res.writeHead` both accept), built in one pass over
// Node's rawHeaders: hop-by-hop headers dropped, x-request-id made when absent, x-forwarded-*
// set, the peer-metadata header replaced. Trace headers (traceparent, tracestate, b3) pass as is.
// HTTP/2 requests arrive with pseudo-headers: `:authority` becomes Host (undici turns it back
// into `:authority` for an HTTP/2 upstream), the others are dropped (undici makes its own).
// `te: trailers` passes (gRPC needs it); any other TE is hop-by-hop.
import type { HeaderOps } from '@minimesh/api'

/** Connection-scoped headers a proxy never forwards (RFC 9110 §7.6.1, plus legacy ones). */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'http2-settings',
])

/** Peer metadata between proxies (base64url JSON of the sending workload). */
export const PEER_HEADER = 'x-minimesh-peer'

export interface CompiledHeaderOps {
  set: [string, string][]
  add: [string, string][]
  remove: string[]
}

export function compileHeaderOps(ops: HeaderOps | undefined): CompiledHeaderOps | undefined {
  if (!ops) return undefined
  const lower = (rec: Record<string, string> | undefined): [string, string][] =>
    Object.entries(rec ?? {}).map(([k, v]) => [k.toLowerCase(), v])
  const out = {
    set: lower(ops.set),
    add: lower(ops.add),
    remove: (ops.remove ?? []).map((n) => n.toLowerCase()),
  }
  return out.set.length + out.add.length + out.remove.length === 0 ? undefined : out
}

function removeName(flat: string[], name: string): void {
  let w = 0
  for (let r = 0; r < flat.length; r += 2) {
    if (flat[r] === name) continue
    flat[w++] = flat[r]!
    flat[w++] = flat[r + 1]!
  }
  flat.length = w
}

/** Applies remove, then set (replacing), then add (appending), in place. */
export function applyHeaderOps(flat: string[], ops: CompiledHeaderOps | undefined): void {
  if (!ops) return
  for (const name of ops.remove) removeName(flat, name)
  for (const [name, value] of ops.set) {
    removeName(flat, name)
    flat.push(name, value)
  }
  for (const [name, value] of ops.add) flat.push(name, value)
}

export function setFlat(flat: string[], name: string, value: string): void {
  for (let i = 0; i < flat.length; i += 2) {
    if (flat[i] === name) {
      flat[i + 1] = value
      return
    }
  }
  flat.push(name, value)
}

export interface RequestHeaderFacts {
  requestId: string | undefined
  forwardedFor: string | undefined
  forwardedProto: string | undefined
  peer: string | undefined
  upgrade: string | undefined
  userAgent: string | undefined
  contentType: string | undefined
  host: string | undefined
  contentLength: string | undefined
  chunked: boolean
}

export function newFacts(): RequestHeaderFacts {
  return {
    requestId: undefined,
    forwardedFor: undefined,
    forwardedProto: undefined,
    peer: undefined,
    upgrade: undefined,
    userAgent: undefined,
    contentType: undefined,
    host: undefined,
    contentLength: undefined,
    chunked: false,
  }
}

/**
 * Copies a request's rawHeaders into a flat lower-case array without hop-by-hop headers (and
 * without names listed in Connection) and without the peer header; reports the headers the
 * proxy acts on.
 */
export function copyRequestHeaders(raw: readonly string[], facts: RequestHeaderFacts): string[] {
  const out: string[] = []
  let connectionTokens: string[] | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase()
    const value = raw[i + 1]!
    switch (name) {
      case 'x-request-id':
        facts.requestId ??= value
        break
      case 'x-forwarded-for':
        facts.forwardedFor = facts.forwardedFor === undefined ? value : `${facts.forwardedFor}, ${value}`
        continue
      case 'x-forwarded-proto':
        facts.forwardedProto ??= value
        break
      case 'user-agent':
        facts.userAgent = value
        break
      case 'content-type':
        facts.contentType ??= value
        break
      case ':authority':
        if (facts.host !== undefined) continue
        facts.host = value
        out.push('host', value)
        continue
      case 'host':
        // One Host only (HTTP/2: `:authority` came first and wins; undici refuses two).
        if (facts.host !== undefined) continue
        facts.host = value
        break
      case 'te':
        if (value.trim().toLowerCase() !== 'trailers') continue
        break
      case 'content-length':
        facts.contentLength = value
        break
      case 'transfer-encoding':
        facts.chunked = true
        continue
      case 'expect':
        // Node answered `100-continue` already; undici refuses the header.
        continue
      case PEER_HEADER:
        facts.peer = value
        continue
      case 'upgrade':
        facts.upgrade = value
        continue
      case 'connection': {
        for (const t of value.split(',')) {
          const tok = t.trim().toLowerCase()
          if (tok && tok !== 'close' && tok !== 'keep-alive' && tok !== 'upgrade') {
            connectionTokens ??= []
            connectionTokens.push(tok)
          }
        }
        continue
      }
      default:
        if (HOP_BY_HOP.has(name) || name.charCodeAt(0) === 0x3a /* ':' pseudo-header */) continue
    }
    out.push(name, value)
  }
  if (connectionTokens) for (const t of connectionTokens) removeName(out, t)
  return out
}

/** Response headers from undici's raw list (Buffers or strings) as a flat lower-case array minus hop-by-hop. */
export function copyResponseHeaders(raw: readonly (Buffer | string)[], keepUpgrade = false): string[] {
  const out: string[] = []
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]!
    const name = (typeof n === 'string' ? n : n.toString('latin1')).toLowerCase()
    if (HOP_BY_HOP.has(name) && !(keepUpgrade && (name === 'upgrade' || name === 'connection'))) continue
    const v = raw[i + 1]!
    out.push(name, typeof v === 'string' ? v : v.toString('latin1'))
  }
  return out
}

/**
 * Response headers from the object undici already parsed for the handler (lower-case names,
 * repeated headers as arrays, values as latin1) as a flat array minus hop-by-hop: the same result
 * as copyResponseHeaders without converting and lower-casing every name and value again.
 */
export function flattenResponseHeaders(headers: Record<string, string | string[] | undefined>): string[] {
  const out: string[] = []
  for (const name of Object.keys(headers)) {
    if (HOP_BY_HOP.has(name)) continue
    const v = headers[name]
    if (typeof v === 'string') out.push(name, v)
    else if (v !== undefined) for (const one of v) out.push(name, one)
  }
  return out
}

/** Upstream trailers to pass on to an HTTP/2 client, or undefined when there are none. */
export function flattenTrailers(
  trailers: Record<string, string | string[] | undefined>,
): Record<string, string | string[]> | undefined {
  let out: Record<string, string | string[]> | undefined
  for (const name of Object.keys(trailers)) {
    const v = trailers[name]
    if (v === undefined || HOP_BY_HOP.has(name) || name.charCodeAt(0) === 0x3a) continue
    out ??= {}
    out[name] = v
  }
  return out
}
