import { describe, expect, it } from 'vitest'
import { type AttributeLookup, ExpressionError, evaluateExpression, parseExpression } from './expression.ts'

describe('quota dimension expressions', () => {
  it('parses attributes, keyed attributes and literals separated by |', () => {
    expect(parseExpression('source.labels["app"] | source.service | "unknown"')).toEqual([
      { kind: 'attribute', name: 'source.labels', key: 'app' },
      { kind: 'attribute', name: 'source.service' },
      { kind: 'literal', value: 'unknown' },
    ])
    expect(parseExpression('request.headers["x-user"]')).toEqual([
      { kind: 'attribute', name: 'request.headers', key: 'x-user' },
    ])
  })

  it('keeps | and escapes inside string literals', () => {
    expect(parseExpression('"a|b" | "say \\"hi\\""')).toEqual([
      { kind: 'literal', value: 'a|b' },
      { kind: 'literal', value: 'say "hi"' },
    ])
  })

  it.each([
    ['source.name', /unknown term/],
    ['source.labels', /needs a key/],
    ['source.service["x"]', /does not take a key/],
    ['"open', /unterminated/],
    ['source.service |', /empty term/],
    ['', /empty term/],
    ['destination.labels[app]', /unknown term/],
  ])('rejects %j', (text, msg) => {
    expect(() => parseExpression(text)).toThrow(ExpressionError)
    expect(() => parseExpression(text)).toThrow(msg)
  })

  it('evaluates to the first term that is present', () => {
    const terms = parseExpression('source.labels["app"] | source.service | "unknown"')
    const attrs =
      (values: Record<string, string>): AttributeLookup =>
      (name, key) =>
        values[key === undefined ? name : `${name}[${key}]`]
    expect(
      evaluateExpression(terms, attrs({ 'source.labels[app]': 'productpage', 'source.service': 'pp' })),
    ).toBe('productpage')
    expect(evaluateExpression(terms, attrs({ 'source.service': 'productpage' }))).toBe('productpage')
    // An empty value counts as absent.
    expect(evaluateExpression(terms, attrs({ 'source.labels[app]': '' }))).toBe('unknown')
    expect(evaluateExpression(parseExpression('request.headers["x-user"]'), attrs({}))).toBeUndefined()
  })
})
