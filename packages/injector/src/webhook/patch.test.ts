import { applyPatch } from 'fast-json-patch'
import { describe, expect, it } from 'vitest'
import { escapePointerToken, jsonPatch } from './patch.ts'

function roundTrip(a: unknown, b: unknown) {
  const ops = jsonPatch(a, b)
  const out = applyPatch(structuredClone(a), structuredClone(ops), true, false).newDocument
  expect(out).toStrictEqual(b)
  return ops
}

describe('jsonPatch', () => {
  it('escapes ~ and / in keys (RFC 6901)', () => {
    expect(escapePointerToken('a/b~c')).toBe('a~1b~0c')
    const ops = roundTrip(
      { metadata: { annotations: { 'x~y': '1' } } },
      { metadata: { annotations: { 'x~y': '2', 'sidecar.minimesh.dev/status': '{}' } } },
    )
    expect(ops).toEqual([
      { op: 'replace', path: '/metadata/annotations/x~0y', value: '2' },
      { op: 'add', path: '/metadata/annotations/sidecar.minimesh.dev~1status', value: '{}' },
    ])
  })
  it('nothing changed: no operations', () => {
    expect(jsonPatch({ a: [1, { b: null }] }, { a: [1, { b: null }] })).toEqual([])
  })
  it('arrays grow, shrink and change in place', () => {
    expect(roundTrip({ l: [1, 2] }, { l: [1, 3, 4, 5] })).toEqual([
      { op: 'replace', path: '/l/1', value: 3 },
      { op: 'add', path: '/l/2', value: 4 },
      { op: 'add', path: '/l/3', value: 5 },
    ])
    expect(roundTrip({ l: [1, 2, 3, 4] }, { l: [1] })).toEqual([
      { op: 'remove', path: '/l/3' },
      { op: 'remove', path: '/l/2' },
      { op: 'remove', path: '/l/1' },
    ])
    roundTrip({ l: [{ a: 1 }, 'x'] }, { l: ['x', { a: 1 }, [2]] })
  })
  it('type changes replace; removed keys are removed; whole-document replace', () => {
    roundTrip({ a: { b: 1 }, c: [1], d: 'x', e: 1 }, { a: [1], c: { z: 1 }, d: null, f: { g: [] } })
    expect(roundTrip(1, { a: 1 })).toEqual([{ op: 'replace', path: '', value: { a: 1 } }])
    expect(jsonPatch({ a: 1, b: undefined }, { a: 1 })).toEqual([])
  })
  it('random documents round-trip through fast-json-patch', () => {
    let seed = 42
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed / 0x7fffffff
    }
    const keys = ['a', 'b/c', 'd~e', 'f', '0']
    const gen = (depth: number): unknown => {
      const r = rnd()
      if (depth === 0 || r < 0.3)
        return r < 0.1 ? null : r < 0.2 ? Math.floor(rnd() * 5) : `s${Math.floor(rnd() * 3)}`
      if (r < 0.65) return Array.from({ length: Math.floor(rnd() * 4) }, () => gen(depth - 1))
      return Object.fromEntries(keys.filter(() => rnd() < 0.5).map((k) => [k, gen(depth - 1)]))
    }
    for (let i = 0; i < 300; i++) roundTrip(gen(4), gen(4))
  })
})
