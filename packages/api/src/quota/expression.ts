/**
 * QuotaPolicy dimension expressions, Mixer style: terms separated by `|`, the first term that is
 * present gives the value. A term is an attribute (`source.labels["app"]`, `destination.service`,
 * `request.headers["x-user"]`) or a string literal (`"unknown"`).
 */

import { ApiError, ApiErrorCode } from '../errors.ts'

export type Term =
  | { kind: 'attribute'; name: AttributeName; key?: string }
  | { kind: 'literal'; value: string }

/** Attributes a dimension may read. Those ending in `[]` take a key. */
export const ATTRIBUTES = [
  'source.labels[]',
  'source.service',
  'source.namespace',
  'source.principal',
  'source.workload',
  'source.ip',
  'destination.labels[]',
  'destination.service',
  'destination.namespace',
  'destination.version',
  'destination.workload',
  'request.headers[]',
  'request.path',
  'request.method',
  'request.host',
] as const
export type AttributeName = (typeof ATTRIBUTES)[number] extends infer A
  ? A extends `${infer N}[]`
    ? N
    : A
  : never

const KEYED = new Set(ATTRIBUTES.filter((a) => a.endsWith('[]')).map((a) => a.slice(0, -2)))
const PLAIN = new Set(ATTRIBUTES.filter((a) => !a.endsWith('[]')))

export class ExpressionError extends ApiError {
  constructor(message: string) {
    super(ApiErrorCode.Expression, message)
  }
}

function parseTerm(raw: string): Term {
  const text = raw.trim()
  const literal = /^"((?:[^"\\]|\\.)*)"$/.exec(text)
  if (literal) return { kind: 'literal', value: JSON.parse(`"${literal[1]}"`) as string }
  const keyed = /^([a-z]+\.[a-z]+)\[\s*"((?:[^"\\]|\\.)*)"\s*\]$/.exec(text)
  if (keyed) {
    const name = keyed[1]!
    if (!KEYED.has(name)) throw new ExpressionError(`${JSON.stringify(name)} does not take a key`)
    return { kind: 'attribute', name: name as AttributeName, key: JSON.parse(`"${keyed[2]}"`) as string }
  }
  if (PLAIN.has(text as (typeof ATTRIBUTES)[number]))
    return { kind: 'attribute', name: text as AttributeName }
  if (KEYED.has(text)) throw new ExpressionError(`${JSON.stringify(text)} needs a key, e.g. ${text}["app"]`)
  throw new ExpressionError(
    `unknown term ${JSON.stringify(text)}: use a quoted string or one of ${ATTRIBUTES.map((a) => a.replace('[]', '["…"]')).join(', ')}`,
  )
}

export function parseExpression(text: string): Term[] {
  // Split on `|` outside of quotes.
  const parts: string[] = []
  let cur = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c === '\\' && quoted) {
      cur += c + (text[++i] ?? '')
      continue
    }
    if (c === '"') quoted = !quoted
    if (c === '|' && !quoted) {
      parts.push(cur)
      cur = ''
    } else cur += c
  }
  if (quoted) throw new ExpressionError('unterminated string literal')
  parts.push(cur)
  if (parts.some((p) => p.trim() === '')) throw new ExpressionError('empty term')
  return parts.map(parseTerm)
}

/** Looks up one attribute for a request; undefined when it is absent. */
export type AttributeLookup = (name: AttributeName, key?: string) => string | undefined

/** Evaluates an expression: the first present term wins; undefined when none is. */
export function evaluateExpression(terms: readonly Term[], lookup: AttributeLookup): string | undefined {
  for (const t of terms) {
    if (t.kind === 'literal') return t.value
    const v = lookup(t.name, t.key)
    if (v !== undefined && v !== '') return v
  }
  return undefined
}
