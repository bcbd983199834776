import { describe, expect, it } from 'vitest'
import { backTo, cleanUserName } from './session.ts'

describe('cleanUserName', () => {
  it('keeps printable ASCII names of up to 64 characters, trimmed', () => {
    expect(cleanUserName(' jason ')).toBe('jason')
    expect(cleanUserName('a b')).toBe('a b')
    expect(cleanUserName('x'.repeat(64))).toBe('x'.repeat(64))
  })

  it('refuses what cannot be a header value or is not a name', () => {
    for (const bad of ['', '   ', 'x'.repeat(65), 'a\r\nb', 'jäson', 'tab\there', 42, undefined, ['jason']]) {
      expect(cleanUserName(bad)).toBeUndefined()
    }
  })
})

describe('backTo', () => {
  it('goes back to a page of this host', () => {
    expect(backTo('http://shop.example:8080/productpage?x=1', 'shop.example:8080')).toBe('/productpage?x=1')
    expect(backTo('http://shop.example/', 'shop.example')).toBe('/')
  })

  it('never to another site', () => {
    expect(backTo('http://evil.example/productpage', 'shop.example')).toBe('/productpage')
    expect(backTo('http://shop.example//evil.example/', 'shop.example')).toBe('/productpage')
    expect(backTo('not a url', 'shop.example')).toBe('/productpage')
    expect(backTo(undefined, 'shop.example')).toBe('/productpage')
  })
})
