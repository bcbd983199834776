import { describe, expect, it } from 'vitest'
import { tracingFromFlags } from './config.ts'

describe('tracing flags', () => {
  it('are off without a collector', () => {
    expect(tracingFromFlags({})).toBeUndefined()
    expect(tracingFromFlags({ collector: ' ', sampling: '50' })).toBeUndefined()
  })

  it("complete a host:port with the format's path and default the sampling to 1%", () => {
    expect(tracingFromFlags({ collector: 'zipkin.minimesh-system:9411' })).toEqual({
      collector: 'http://zipkin.minimesh-system:9411/api/v2/spans',
      format: 'zipkin',
      sampling: 1,
    })
    expect(tracingFromFlags({ collector: 'http://otel:4318', format: 'otlp', sampling: '12.5' })).toEqual({
      collector: 'http://otel:4318/v1/traces',
      format: 'otlp',
      sampling: 12.5,
    })
    expect(tracingFromFlags({ collector: 'https://c.example/custom' })?.collector).toBe(
      'https://c.example/custom',
    )
  })

  it('refuse a bad format, URL or percentage with the flag named', () => {
    expect(() => tracingFromFlags({ collector: 'h:1', format: 'jaeger' })).toThrow(/--trace-format/)
    expect(() => tracingFromFlags({ collector: 'ftp://h/x' })).toThrow(/--trace-collector/)
    expect(() => tracingFromFlags({ collector: 'h:1', sampling: '101' })).toThrow(/--trace-sampling/)
    expect(() => tracingFromFlags({ collector: 'h:1', sampling: 'x' })).toThrow(/--trace-sampling/)
  })
})
