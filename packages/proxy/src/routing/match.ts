// Route matchers, compiled once when a configuration is loaded: every StringMatcher becomes a
// small closure, a regex is built once, and source-label conditions (which depend only on this
// proxy's own labels) are decided at compile time, so a route that can never match is dropped.
import type { KeyValueMatcher, RouteMatch, StringMatcher } from '@minimesh/api'

/** What a route matches against; built once per request by the listener. */
export interface RequestView {
  method: string
  /** Path without the query string. */
  path: string
  /** Raw query string without '?', '' when none. */
  query: string
  /** Host header as sent (may carry a port). */
  authority: string
  /** Lower-case header names (Node's `req.headers`). */
  headers: Record<string, string | string[] | undefined>
  /** Port the connection was addressed to (original destination or gateway listener port). */
  port: number
  /** Parsed query string, made on first use. */
  params?: URLSearchParams
}

/** Identity of the workload this proxy serves; decides sourceLabels / sourceNamespace at compile time. */
export interface SourceIdentity {
  labels: Record<string, string>
  namespace: string
}

export type ValueTest = (value: string | undefined) => boolean

/** Compiles one StringMatcher (exactly one of exact, prefix, regex, present; optional ignoreCase). */
export function compileStringMatcher(m: StringMatcher): ValueTest {
  const ic = m.ignoreCase === true
  if (m.exact !== undefined) {
    const want = ic ? m.exact.toLowerCase() : m.exact
    return ic ? (v) => v?.toLowerCase() === want : (v) => v === want
  }
  if (m.prefix !== undefined) {
    const want = ic ? m.prefix.toLowerCase() : m.prefix
    return ic ? (v) => v?.toLowerCase().startsWith(want) === true : (v) => v?.startsWith(want) === true
  }
  if (m.regex !== undefined) {
    // Istio (RE2) regexes match the whole value.
    const re = new RegExp(`^(?:${m.regex})$`, ic ? 'i' : '')
    return (v) => v !== undefined && re.test(v)
  }
  const present = m.present !== false
  return (v) => (v !== undefined) === present
}

function headerValue(headers: RequestView['headers'], name: string): string | undefined {
  const v = headers[name]
  return Array.isArray(v) ? v.join(',') : v
}

function compileKeyValue(m: KeyValueMatcher, get: (view: RequestView, name: string) => string | undefined) {
  const name = m.name
  const test = compileStringMatcher(m.match)
  if (m.invert) return (view: RequestView) => !test(get(view, name))
  return (view: RequestView) => test(get(view, name))
}

const getHeader = (view: RequestView, name: string) => headerValue(view.headers, name)
const getParam = (view: RequestView, name: string) => {
  view.params ??= new URLSearchParams(view.query)
  return view.params.get(name) ?? undefined
}

function stripPort(authority: string): string {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']')
    return end < 0 ? authority : authority.slice(0, end + 1)
  }
  const colon = authority.lastIndexOf(':')
  return colon < 0 ? authority : authority.slice(0, colon)
}

export interface CompiledMatch {
  test: (view: RequestView) => boolean
  /** Set when the path matched by prefix: a uri rewrite replaces exactly this prefix. */
  pathPrefix?: string
}

/**
 * Compiles a RouteMatch. Returns undefined when the route can never match for this proxy
 * (its sourceLabels / sourceNamespace do not hold for `source`).
 */
export function compileRouteMatch(match: RouteMatch, source: SourceIdentity): CompiledMatch | undefined {
  if (match.sourceLabels) {
    for (const [k, v] of Object.entries(match.sourceLabels)) if (source.labels[k] !== v) return undefined
  }
  if (match.sourceNamespace !== undefined && match.sourceNamespace !== source.namespace) return undefined
  const tests: ((view: RequestView) => boolean)[] = []
  if (match.path) {
    const t = compileStringMatcher(match.path)
    tests.push((view) => t(view.path))
  }
  if (match.method) {
    const t = compileStringMatcher(match.method)
    tests.push((view) => t(view.method))
  }
  if (match.authority) {
    const t = compileStringMatcher(match.authority)
    tests.push((view) => t(view.authority) || t(stripPort(view.authority)))
  }
  if (match.port !== undefined) {
    const port = match.port
    tests.push((view) => view.port === port)
  }
  for (const h of match.headers ?? [])
    tests.push(compileKeyValue({ ...h, name: h.name.toLowerCase() }, getHeader))
  for (const q of match.queryParams ?? []) tests.push(compileKeyValue(q, getParam))
  const pathPrefix = match.path?.prefix
  const result: CompiledMatch = { test: all(tests) }
  if (pathPrefix !== undefined) result.pathPrefix = pathPrefix
  return result
}

function all(tests: ((view: RequestView) => boolean)[]): (view: RequestView) => boolean {
  switch (tests.length) {
    case 0:
      return () => true
    case 1:
      return tests[0]!
    case 2: {
      const [a, b] = tests as [(v: RequestView) => boolean, (v: RequestView) => boolean]
      return (view) => a(view) && b(view)
    }
    default:
      return (view) => {
        for (const t of tests) if (!t(view)) return false
        return true
      }
  }
}

export { stripPort }
