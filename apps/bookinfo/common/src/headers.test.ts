import { describe, expect, it } from 'vitest'
import { PROPAGATED_HEADERS, pickHeaders } from './headers.ts'

describe('pickHeaders', () => {
  it('keeps the propagated headers and drops the rest', () => {
    const out = pickHeaders({
      'x-request-id': 'r1',
      traceparent: 'tp',
      b3: 'b',
      'x-b3-sampled': '1',
      host: 'productpage:9080',
      'content-length': '0',
      'end-user': 'jason',
      'x-other': 'o',
    })
    expect(out).toEqual({ 'x-request-id': 'r1', traceparent: 'tp', b3: 'b', 'x-b3-sampled': '1' })
  })

  it('joins repeated headers, cookies with "; "', () => {
    expect(
      pickHeaders({
        cookie: ['a=1', 'b=2'] as unknown as string,
        tracestate: ['x=1', 'y=2'] as unknown as string,
      }),
    ).toEqual({ cookie: 'a=1; b=2', tracestate: 'x=1, y=2' })
  })

  it('covers W3C, B3, request id, cookie, authorization and user agent', () => {
    for (const name of [
      'x-request-id',
      'traceparent',
      'tracestate',
      'x-b3-traceid',
      'x-b3-spanid',
      'x-b3-parentspanid',
      'x-b3-sampled',
      'x-b3-flags',
      'b3',
      'cookie',
      'authorization',
      'user-agent',
    ]) {
      expect(PROPAGATED_HEADERS).toContain(name)
    }
  })

  it('picks from a custom list', () => {
    expect(pickHeaders({ 'end-user': 'jason', traceparent: 't' }, ['end-user'])).toEqual({
      'end-user': 'jason',
    })
  })
})
