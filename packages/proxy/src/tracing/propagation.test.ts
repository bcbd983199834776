import { describe, expect, it } from 'vitest'
import { newSpanId, newTraceId } from './ids.ts'
import { parseB3Single, parseTraceparent, readContext, writeContext } from './propagation.ts'

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

describe('traceparent', () => {
  it('reads version 00 and its sampled flag', () => {
    expect(parseTraceparent(TP)).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      sampled: true,
    })
    expect(parseTraceparent(TP.replace(/01$/, '00'))?.sampled).toBe(false)
    // Other flag bits do not make it sampled.
    expect(parseTraceparent(TP.replace(/01$/, '02'))?.sampled).toBe(false)
  })

  it('refuses what W3C says to ignore', () => {
    for (const bad of [
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra',
      '00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01',
      '00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01',
      'garbage',
    ])
      expect(parseTraceparent(bad), bad).toBeUndefined()
  })

  it('reads a future version by its first four fields', () => {
    expect(parseTraceparent(`cc${TP.slice(2)}-what-comes-next`)?.traceId).toBe(
      '4bf92f3577b34da6a3ce929d0e0e4736',
    )
  })
})

describe('b3 single', () => {
  it('reads every form', () => {
    expect(parseB3Single('80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90')).toEqual({
      traceId: '80f198ee56343ba864fe8b2a57d3eff7',
      spanId: 'e457b5a2e4d86bd1',
      sampled: true,
      debug: false,
    })
    expect(parseB3Single('a3ce929d0e0e4736-00f067aa0ba902b7')).toEqual({
      traceId: '0000000000000000a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      debug: false,
    })
    expect(parseB3Single('a3ce929d0e0e4736-00f067aa0ba902b7-d')?.debug).toBe(true)
    expect(parseB3Single('0')).toEqual({ sampled: false, debug: false })
    expect(parseB3Single('d')).toEqual({ sampled: true, debug: true })
    expect(parseB3Single('a3ce929d0e0e4736-00f067aa0ba902b7-x')).toBeUndefined()
    expect(parseB3Single('nonsense')).toBeUndefined()
  })
})

describe('readContext', () => {
  it('prefers traceparent and keeps tracestate beside it', () => {
    const c = readContext([
      'host',
      'x',
      'traceparent',
      TP,
      'tracestate',
      'a=1',
      'tracestate',
      'b=2',
      'x-b3-traceid',
      '80f198ee56343ba864fe8b2a57d3eff7',
      'x-b3-spanid',
      'e457b5a2e4d86bd1',
      'x-b3-sampled',
      '0',
    ])
    expect(c).toMatchObject({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      sampled: true,
      tracestate: 'a=1,b=2',
    })
  })

  it('falls back to B3 multi, then B3 single; 64-bit ids are padded', () => {
    expect(
      readContext([
        'x-b3-traceid',
        'A3CE929D0E0E4736',
        'x-b3-spanid',
        '00f067aa0ba902b7',
        'x-b3-sampled',
        '1',
      ]),
    ).toMatchObject({
      traceId: '0000000000000000a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      sampled: true,
    })
    expect(readContext(['b3', '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-0'])).toMatchObject({
      traceId: '80f198ee56343ba864fe8b2a57d3eff7',
      sampled: false,
      single: true,
    })
    // A broken traceparent does not hide a good B3 context; tracestate goes with the traceparent.
    expect(
      readContext([
        'traceparent',
        'bad',
        'tracestate',
        'a=1',
        'x-b3-traceid',
        'a3ce929d0e0e4736',
        'x-b3-spanid',
        '00f067aa0ba902b7',
      ]),
    ).toMatchObject({
      traceId: '0000000000000000a3ce929d0e0e4736',
      sampled: undefined,
      tracestate: undefined,
    })
  })

  it('takes a sampling decision without ids (b3: 0, x-b3-flags: 1)', () => {
    expect(readContext(['b3', '0'])).toMatchObject({ traceId: undefined, sampled: false })
    expect(readContext(['x-b3-flags', '1'])).toMatchObject({ sampled: true, debug: true })
    expect(readContext(['user-agent', 'curl'])).toMatchObject({ traceId: undefined, sampled: undefined })
  })
})

describe('writeContext', () => {
  it('replaces every trace header and keeps the others in order', () => {
    const h = [
      'host',
      'a',
      'traceparent',
      TP,
      'x-b3-spanid',
      'old',
      'accept',
      '*/*',
      'b3',
      'old',
      'x-b3-sampled',
      '1',
    ]
    writeContext(h, {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: 'aaaaaaaaaaaaaaaa',
      parentId: '00f067aa0ba902b7',
      sampled: true,
      debug: false,
      tracestate: 'a=1',
      single: true,
    })
    expect(h).toEqual([
      'host',
      'a',
      'accept',
      '*/*',
      'traceparent',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-aaaaaaaaaaaaaaaa-01',
      'tracestate',
      'a=1',
      'x-b3-traceid',
      '4bf92f3577b34da6a3ce929d0e0e4736',
      'x-b3-spanid',
      'aaaaaaaaaaaaaaaa',
      'x-b3-parentspanid',
      '00f067aa0ba902b7',
      'x-b3-sampled',
      '1',
      'b3',
      '4bf92f3577b34da6a3ce929d0e0e4736-aaaaaaaaaaaaaaaa-1-00f067aa0ba902b7',
    ])
  })

  it('round-trips: what one proxy writes the next reads, unsampled and debug included', () => {
    for (const [sampled, debug] of [
      [false, false],
      [true, false],
      [true, true],
    ] as const) {
      const h: string[] = []
      const traceId = newTraceId()
      const spanId = newSpanId()
      writeContext(h, {
        traceId,
        spanId,
        parentId: undefined,
        sampled,
        debug,
        tracestate: undefined,
        single: false,
      })
      expect(readContext(h)).toMatchObject({ traceId, spanId, sampled, debug })
    }
  })
})

describe('ids', () => {
  it('are random lower-case hex of the right length', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 2000; i++) {
      const t = newTraceId()
      const s = newSpanId()
      expect(t).toMatch(/^[0-9a-f]{32}$/)
      expect(s).toMatch(/^[0-9a-f]{16}$/)
      seen.add(t)
    }
    expect(seen.size).toBe(2000)
  })
})
