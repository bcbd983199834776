import { describe, expect, it } from 'vitest'
import { cloneJson } from './kube.ts'

describe('cloneJson', () => {
  it('copies deeply, sharing nothing', () => {
    const a = { x: [1, { y: 'z' }], n: null, b: true }
    const c = cloneJson(a)
    expect(c).toStrictEqual(a)
    expect(c.x).not.toBe(a.x)
    expect(c.x[1]).not.toBe(a.x[1])
  })
  it('keeps a __proto__ key as data, never as the prototype', () => {
    const a = JSON.parse('{"__proto__": {"polluted": true}, "k": 1}')
    const c = cloneJson(a)
    expect(Object.getPrototypeOf(c)).toBe(Object.prototype)
    expect((c as { polluted?: boolean }).polluted).toBeUndefined()
    expect(Object.keys(c)).toEqual(['__proto__', 'k'])
    expect(JSON.stringify(c)).toBe(JSON.stringify(a))
  })
})
