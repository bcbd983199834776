import { describe, expect, it } from 'vitest'
import { ApiErrorCode } from '../errors.ts'
import {
  array,
  boolean,
  checkValue,
  duration,
  formatPath,
  integer,
  number,
  object,
  optional,
  record,
  regex,
  string,
  unknownValue,
} from './index.ts'

const codes = (issues: { code: string; path: readonly (string | number)[] }[]) =>
  issues.map((i) => [formatPath(i.path), i.code])

describe('schema DSL', () => {
  const pet = object(
    {
      name: string({ pattern: /^[a-z]+$/, patternHint: 'lower case letters' }),
      age: optional(integer({ min: 0, max: 40 })),
      kind: string({ enum: ['cat', 'dog'] as const }),
      tags: optional(array(string(), { minItems: 1, uniqueBy: (t) => t, uniqueWhat: 'tag' })),
      labels: optional(record(string(), { key: /^[a-z]+$/ })),
      vet: optional(object({ phone: string() })),
    },
    { unimplemented: ['microchip'], oneOf: ['age', 'vet'] },
  )

  it('accepts a valid value with no issues', () => {
    expect(
      checkValue(pet, { name: 'tom', kind: 'cat', age: 3, tags: ['a', 'b'], labels: { x: 'y' } }),
    ).toEqual([])
  })

  it('reports every problem with its path, not just the first', () => {
    const issues = checkValue(pet, {
      name: 'Tom',
      kind: 'cow',
      age: 41.5,
      tags: ['a', 'a', 3],
      labels: { X: 'y' },
      microchip: 'abc',
      colour: 'black',
    })
    expect(codes(issues)).toEqual([
      ['name', ApiErrorCode.Pattern],
      ['kind', ApiErrorCode.Enum],
      ['age', ApiErrorCode.Type],
      ['age', ApiErrorCode.Range],
      ['tags[1]', ApiErrorCode.Duplicate],
      ['tags[2]', ApiErrorCode.Type],
      ['labels.X', ApiErrorCode.Pattern],
      ['microchip', ApiErrorCode.Unimplemented],
      ['colour', ApiErrorCode.UnknownField],
    ])
    expect(issues.find((i) => i.code === ApiErrorCode.Unimplemented)?.message).toBe(
      'field "microchip" is not implemented by minimesh',
    )
  })

  it('reports missing required fields, oneOf and minItems', () => {
    expect(codes(checkValue(pet, { age: 1, vet: { phone: '1' }, tags: [] }))).toEqual([
      ['tags', ApiErrorCode.Range],
      ['name', ApiErrorCode.Required],
      ['kind', ApiErrorCode.Required],
      ['', ApiErrorCode.OneOf],
    ])
  })

  it('treats `field: ~` on an optional field as absent, but not on a required one', () => {
    expect(checkValue(pet, { name: 'a', kind: 'cat', age: null })).toEqual([])
    expect(codes(checkValue(pet, { name: null, kind: 'cat' }))).toEqual([['name', ApiErrorCode.Type]])
  })

  it('runs cross-field checks only on values of the declared type, without nulls', () => {
    const seen: unknown[] = []
    const s = object(
      { items: array(object({ w: integer() })), note: optional(string()) },
      { check: (v) => seen.push(v) },
    )
    checkValue(s, { items: [{ w: 1 }, null] })
    checkValue(s, { items: [{ w: 'x' }] })
    expect(seen).toEqual([])
    checkValue(s, { items: [{ w: 1 }], note: null })
    expect(seen).toEqual([{ items: [{ w: 1 }] }])
  })

  it('rejects the wrong JSON type for each builder', () => {
    expect(codes(checkValue(number(), '1'))).toEqual([['', ApiErrorCode.Type]])
    expect(codes(checkValue(number(), Number.NaN))).toEqual([['', ApiErrorCode.Type]])
    expect(codes(checkValue(boolean(), 'true'))).toEqual([['', ApiErrorCode.Type]])
    expect(codes(checkValue(array(string()), {}))).toEqual([['', ApiErrorCode.Type]])
    expect(codes(checkValue(record(string()), []))).toEqual([['', ApiErrorCode.Type]])
    expect(codes(checkValue(pet, 'tom'))).toEqual([['', ApiErrorCode.Type]])
    expect(checkValue(unknownValue(), { anything: [1] })).toEqual([])
  })

  it('checks durations and regular expressions', () => {
    expect(checkValue(duration(), '1.5s')).toEqual([])
    expect(codes(checkValue(duration(), '1.5'))).toEqual([['', ApiErrorCode.Duration]])
    expect(checkValue(duration(), 5)[0]?.message).toContain('write e.g. "5s"')
    expect(checkValue(regex(), '^/api/v[0-9]+$')).toEqual([])
    expect(codes(checkValue(regex(), '(unclosed'))).toEqual([['', ApiErrorCode.Regex]])
  })

  it('gives a structural OpenAPI schema from the same definition', () => {
    expect(pet.openapi()).toEqual({
      type: 'object',
      properties: {
        name: { type: 'string', pattern: '^[a-z]+$' },
        age: { type: 'integer', minimum: 0, maximum: 40 },
        kind: { type: 'string', enum: ['cat', 'dog'] },
        tags: { type: 'array', items: { type: 'string' }, minItems: 1 },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        vet: { type: 'object', properties: { phone: { type: 'string' } }, required: ['phone'] },
        microchip: {
          description: 'Not implemented by minimesh: setting it is a validation error.',
          'x-kubernetes-preserve-unknown-fields': true,
        },
      },
      required: ['name', 'kind'],
    })
    expect(pet.unimplemented).toEqual(['microchip'])
  })

  it('formats field paths as people write them', () => {
    expect(formatPath(['spec', 'http', 0, 'route', 1, 'weight'])).toBe('spec.http[0].route[1].weight')
    expect(formatPath(['spec', 'http', 0, 'match', 0, 'headers', 'end-user'])).toBe(
      'spec.http[0].match[0].headers.end-user',
    )
    expect(formatPath(['metadata', 'labels', 'app.kubernetes.io/name'])).toBe(
      'metadata.labels["app.kubernetes.io/name"]',
    )
    expect(formatPath([])).toBe('')
  })
})
