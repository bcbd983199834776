// Trace context on the wire: W3C Trace Context (`traceparent`, `tracestate`) and Zipkin's B3, both
// the multi-header form (`x-b3-traceid`, `x-b3-spanid`, `x-b3-parentspanid`, `x-b3-sampled`,
// `x-b3-flags`) and the single header (`b3`). Read from and written to the flat lower-case header
// list the pipeline forwards, in one pass each. Pure functions, no allocation beyond the result.
//
// What comes in, in order of trust: a valid traceparent; else B3 multi (trace and span id); else B3
// single. A sampling decision travels with the context (traceparent's flags, x-b3-sampled,
// x-b3-flags: 1 = debug = sampled, or a b3 of `0`/`1`/`d`); when none came the proxy decides.

/** An incoming trace context, or the bits of one. */
export interface IncomingContext {
  /** 32 lower-case hex digits (a 64-bit B3 id is left-padded with zeros, as W3C asks). */
  traceId: string | undefined
  /** The caller's span: the parent of the span this proxy makes. 16 hex digits. */
  spanId: string | undefined
  /** true/false when the caller decided; undefined to decide here. */
  sampled: boolean | undefined
  /** x-b3-flags: 1 or a `d` in b3: debug (always sampled, and said so downstream). */
  debug: boolean
  tracestate: string | undefined
  /** A `b3` single header came in: the proxy writes one back. */
  single: boolean
}

/** The context this proxy sends on: its own span as the parent of what comes next. */
export interface OutgoingContext {
  traceId: string
  spanId: string
  /** The caller's span, if any (x-b3-parentspanid). */
  parentId: string | undefined
  sampled: boolean
  debug: boolean
  tracestate: string | undefined
  single: boolean
}

const HEX = /^[0-9a-f]+$/

function isHex(s: string, len: number): boolean {
  return s.length === len && HEX.test(s)
}

function allZero(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== 48) return false
  return true
}

/** A B3 trace id (16 or 32 hex digits) as 32; undefined when malformed or all zeros. */
function b3TraceId(v: string): string | undefined {
  const s = v.trim().toLowerCase()
  if (s.length === 32 && isHex(s, 32)) return allZero(s) ? undefined : s
  if (s.length === 16 && isHex(s, 16)) return allZero(s) ? undefined : `0000000000000000${s}`
  return undefined
}

function spanIdOf(v: string): string | undefined {
  const s = v.trim().toLowerCase()
  return isHex(s, 16) && !allZero(s) ? s : undefined
}

function sampledOf(v: string): boolean | undefined {
  const s = v.trim().toLowerCase()
  if (s === '1' || s === 'true' || s === 'd') return true
  if (s === '0' || s === 'false') return false
  return undefined
}

/**
 * traceparent `version-traceid-parentid-flags` (W3C Trace Context §3.2): version 00 exactly as
 * specified; a higher version is read by its first four fields; ff and malformed ones are ignored.
 */
export function parseTraceparent(
  v: string,
): { traceId: string; spanId: string; sampled: boolean } | undefined {
  const s = v.trim().toLowerCase()
  if (s.length < 55) return undefined
  const version = s.slice(0, 2)
  if (!isHex(version, 2) || version === 'ff') return undefined
  if (version === '00' ? s.length !== 55 : s.length > 55 && s[55] !== '-') return undefined
  if (s[2] !== '-' || s[35] !== '-' || s[52] !== '-') return undefined
  const traceId = s.slice(3, 35)
  const spanId = s.slice(36, 52)
  const flags = s.slice(53, 55)
  if (!isHex(traceId, 32) || allZero(traceId) || !isHex(spanId, 16) || allZero(spanId) || !isHex(flags, 2))
    return undefined
  return { traceId, spanId, sampled: (Number.parseInt(flags, 16) & 1) === 1 }
}

/** b3 single: `{traceid}-{spanid}[-{sampled}[-{parentspanid}]]`, or just `{sampled}`. */
export function parseB3Single(
  v: string,
): { traceId?: string; spanId?: string; sampled?: boolean; debug: boolean } | undefined {
  const s = v.trim().toLowerCase()
  if (s === '0' || s === '1' || s === 'd') return { sampled: s !== '0', debug: s === 'd' }
  const parts = s.split('-')
  if (parts.length < 2 || parts.length > 4) return undefined
  const traceId = b3TraceId(parts[0]!)
  const spanId = spanIdOf(parts[1]!)
  if (!traceId || !spanId) return undefined
  const flag = parts[2]
  const sampled = flag === undefined ? undefined : sampledOf(flag)
  if (flag !== undefined && sampled === undefined) return undefined
  return sampled === undefined
    ? { traceId, spanId, debug: false }
    : { traceId, spanId, sampled, debug: flag === 'd' }
}

/** Reads the trace context from a flat lower-case header list. */
export function readContext(headers: readonly string[]): IncomingContext {
  let traceparent: string | undefined
  let tracestate: string | undefined
  let b3: string | undefined
  let b3Trace: string | undefined
  let b3Span: string | undefined
  let b3Sampled: string | undefined
  let b3Flags: string | undefined
  for (let i = 0; i < headers.length; i += 2) {
    const n = headers[i]!
    // Every name read here starts with t, b or x: one compare skips the others.
    const c = n.charCodeAt(0)
    if (c !== 116 && c !== 98 && c !== 120) continue
    switch (n) {
      case 'traceparent':
        traceparent ??= headers[i + 1]
        break
      case 'tracestate':
        // Several tracestate headers are one list (W3C §3.3.1).
        tracestate = tracestate === undefined ? headers[i + 1] : `${tracestate},${headers[i + 1]}`
        break
      case 'b3':
        b3 ??= headers[i + 1]
        break
      case 'x-b3-traceid':
        b3Trace ??= headers[i + 1]
        break
      case 'x-b3-spanid':
        b3Span ??= headers[i + 1]
        break
      case 'x-b3-sampled':
        b3Sampled ??= headers[i + 1]
        break
      case 'x-b3-flags':
        b3Flags ??= headers[i + 1]
        break
    }
  }
  const ctx: IncomingContext = {
    traceId: undefined,
    spanId: undefined,
    sampled: undefined,
    debug: false,
    tracestate: undefined,
    single: b3 !== undefined,
  }
  const debug = b3Flags?.trim() === '1'
  const tp = traceparent === undefined ? undefined : parseTraceparent(traceparent)
  if (tp) {
    ctx.traceId = tp.traceId
    ctx.spanId = tp.spanId
    ctx.sampled = tp.sampled || debug
    ctx.debug = debug
    // tracestate only means something beside a valid traceparent (W3C §3.3).
    ctx.tracestate = tracestate
    return ctx
  }
  const multiTrace = b3Trace === undefined ? undefined : b3TraceId(b3Trace)
  const multiSpan = b3Span === undefined ? undefined : spanIdOf(b3Span)
  if (multiTrace && multiSpan) {
    ctx.traceId = multiTrace
    ctx.spanId = multiSpan
  }
  const single = b3 === undefined ? undefined : parseB3Single(b3)
  if (ctx.traceId === undefined && single?.traceId) {
    ctx.traceId = single.traceId
    ctx.spanId = single.spanId
  }
  if (debug || single?.debug) {
    ctx.debug = true
    ctx.sampled = true
  } else if (b3Sampled !== undefined) ctx.sampled = sampledOf(b3Sampled)
  else if (single?.sampled !== undefined) ctx.sampled = single.sampled
  return ctx
}

const TRACE_HEADERS: ReadonlySet<string> = new Set([
  'traceparent',
  'tracestate',
  'b3',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
])

/**
 * Replaces the trace headers in a flat header list with `out`: traceparent (and the tracestate
 * that came), B3 multi, and a b3 single header when one came in. In place.
 */
export function writeContext(headers: string[], out: OutgoingContext): void {
  let w = 0
  for (let r = 0; r < headers.length; r += 2) {
    const n = headers[r]!
    const c = n.charCodeAt(0)
    if ((c === 116 || c === 98 || c === 120) && TRACE_HEADERS.has(n)) continue
    headers[w++] = n
    headers[w++] = headers[r + 1]!
  }
  headers.length = w
  const flag = out.sampled ? '1' : '0'
  headers.push('traceparent', `00-${out.traceId}-${out.spanId}-0${flag}`)
  if (out.tracestate !== undefined) headers.push('tracestate', out.tracestate)
  headers.push('x-b3-traceid', out.traceId, 'x-b3-spanid', out.spanId)
  if (out.parentId !== undefined) headers.push('x-b3-parentspanid', out.parentId)
  // Debug implies sampled: B3 says send x-b3-flags alone then.
  if (out.debug) headers.push('x-b3-flags', '1')
  else headers.push('x-b3-sampled', flag)
  if (out.single) {
    const state = out.debug ? 'd' : flag
    headers.push(
      'b3',
      out.parentId === undefined
        ? `${out.traceId}-${out.spanId}-${state}`
        : `${out.traceId}-${out.spanId}-${state}-${out.parentId}`,
    )
  }
}
