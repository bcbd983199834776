import { describe, expect, it } from 'vitest'
import { compileRouteMatch, compileStringMatcher, type RequestView } from './match.ts'

const source = { labels: { app: 'productpage', version: 'v1' }, namespace: 'default' }

function view(over: Partial<RequestView> = {}): RequestView {
  return { method: 'GET', path: '/', query: '', authority: 'reviews:9080', headers: {}, port: 9080, ...over }
}

describe('compileStringMatcher', () => {
  it('exact, prefix, regex (whole value), present, ignoreCase', () => {
    expect(compileStringMatcher({ exact: '/a' })('/a')).toBe(true)
    expect(compileStringMatcher({ exact: '/a' })('/ab')).toBe(false)
    expect(compileStringMatcher({ prefix: '/a' })('/ab')).toBe(true)
    expect(compileStringMatcher({ prefix: '/a' })(undefined)).toBe(false)
    expect(compileStringMatcher({ regex: '/v[0-9]+' })('/v12')).toBe(true)
    expect(compileStringMatcher({ regex: '/v[0-9]+' })('/v12/x')).toBe(false)
    expect(compileStringMatcher({ present: true })('')).toBe(true)
    expect(compileStringMatcher({ present: true })(undefined)).toBe(false)
    expect(compileStringMatcher({ present: false })(undefined)).toBe(true)
    expect(compileStringMatcher({ exact: 'Jason', ignoreCase: true })('jASON')).toBe(true)
    expect(compileStringMatcher({ prefix: 'AB', ignoreCase: true })('abc')).toBe(true)
  })
})

describe('compileRouteMatch', () => {
  it('matches headers, query params, method, port together', () => {
    const m = compileRouteMatch(
      {
        path: { prefix: '/reviews' },
        headers: [{ name: 'End-User', match: { exact: 'jason' } }],
        queryParams: [{ name: 'v', match: { regex: '[0-9]' } }],
        method: { exact: 'GET' },
        port: 9080,
      },
      source,
    )!
    const ok = view({ path: '/reviews/1', query: 'v=2', headers: { 'end-user': 'jason' } })
    expect(m.test(ok)).toBe(true)
    expect(m.pathPrefix).toBe('/reviews')
    expect(m.test({ ...ok, params: undefined, headers: { 'end-user': 'bob' } })).toBe(false)
    expect(m.test({ ...ok, params: undefined, query: 'v=x' })).toBe(false)
    expect(m.test({ ...ok, params: undefined, method: 'POST' })).toBe(false)
    expect(m.test({ ...ok, params: undefined, port: 9081 })).toBe(false)
  })

  it('inverts header matchers (withoutHeaders), absent header included', () => {
    const m = compileRouteMatch(
      { headers: [{ name: 'x-test', match: { exact: 'a' }, invert: true }] },
      source,
    )!
    expect(m.test(view({ headers: { 'x-test': 'a' } }))).toBe(false)
    expect(m.test(view({ headers: { 'x-test': 'b' } }))).toBe(true)
    expect(m.test(view())).toBe(true)
  })

  it('decides sourceLabels and sourceNamespace at compile time', () => {
    expect(compileRouteMatch({ sourceLabels: { app: 'productpage' } }, source)).toBeDefined()
    expect(compileRouteMatch({ sourceLabels: { app: 'reviews' } }, source)).toBeUndefined()
    expect(compileRouteMatch({ sourceNamespace: 'other' }, source)).toBeUndefined()
  })

  it('matches authority with or without port', () => {
    const m = compileRouteMatch({ authority: { exact: 'reviews' } }, source)!
    expect(m.test(view({ authority: 'reviews:9080' }))).toBe(true)
    expect(m.test(view({ authority: 'ratings:9080' }))).toBe(false)
  })
})
