import { describe, expect, it } from 'vitest'
import { inCidr } from './filter-chain.ts'
import { classifyFirstBytes } from './sniff.ts'

describe('classifyFirstBytes', () => {
  it('tells HTTP/1.x request lines from other protocols', () => {
    expect(classifyFirstBytes(Buffer.from('GET / HTTP/1.1\r\n'))).toBe('http')
    expect(classifyFirstBytes(Buffer.from('OPTIONS * HTTP/1.1\r\n'))).toBe('http')
    expect(classifyFirstBytes(Buffer.from('PRI * HTTP/2.0\r\n'))).toBe('tcp')
    expect(classifyFirstBytes(Buffer.from([0x16, 0x03, 0x01, 0x00]))).toBe('tcp')
    expect(classifyFirstBytes(Buffer.from('get / HTTP/1.1'))).toBe('tcp')
    expect(classifyFirstBytes(Buffer.from('GE'))).toBe('more')
    expect(classifyFirstBytes(Buffer.from('ABCDEFGHIJ'))).toBe('tcp')
  })
})

describe('inCidr', () => {
  it('matches IPv4 prefixes and bare addresses', () => {
    expect(inCidr('198.19.0.12', '198.19.0.0/16')).toBe(true)
    expect(inCidr('198.20.0.12', '198.19.0.0/16')).toBe(false)
    expect(inCidr('10.1.2.3', '0.0.0.0/0')).toBe(true)
    expect(inCidr('10.1.2.3', '10.1.2.3')).toBe(true)
    expect(inCidr('10.1.2.4', '10.1.2.3/32')).toBe(false)
    expect(inCidr('::1', '::1')).toBe(true)
  })
})
