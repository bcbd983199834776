import { describe, expect, it } from 'vitest'
import { ProxyError } from '../errors.ts'
import { cut, cutsAndMutation, framedMessage, seeded } from '../testdata/h1-fuzz.ts'
import { MAX_RESPONSE_HEAD, type ResponseHeaders, ResponseParser } from './h1-response.ts'

interface Parsed {
  status: number
  headers: ResponseHeaders
  body: string
  trailers: ResponseHeaders
  keepAlive: boolean
}

/** Feeds `pieces` to a parser expecting `count` responses; returns them (whole ones only). */
function parse(pieces: readonly Buffer[], opts: { head?: boolean; count?: number } = {}): Parsed[] {
  const p = new ResponseParser()
  const out: Parsed[] = []
  let left = opts.count ?? 1
  const next = () => {
    let cur: Partial<Parsed> & { chunks: Buffer[] } = { chunks: [] }
    p.start(
      {
        onHead(status, headers) {
          cur.status = status
          cur.headers = headers
        },
        onBody(chunk) {
          cur.chunks.push(Buffer.from(chunk))
        },
        onEnd(trailers) {
          out.push({
            status: cur.status!,
            headers: cur.headers!,
            body: Buffer.concat(cur.chunks).toString('latin1'),
            trailers,
            keepAlive: p.keepAlive,
          })
          cur = { chunks: [] }
          if (--left > 0) next()
        },
      },
      opts.head ?? false,
    )
  }
  next()
  for (const piece of pieces) p.execute(piece)
  return out
}

const b = (s: string) => Buffer.from(s, 'latin1')

function protocolError(fn: () => unknown): void {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ProxyError)
    expect((err as ProxyError).code).toBe('MESH_ERR_PROXY_UPSTREAM_PROTOCOL')
    return
  }
  throw new Error('expected a protocol error')
}

describe('ResponseParser', () => {
  it('reads a Content-Length response cut at every byte', () => {
    const raw = b(
      'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-A: 1\r\nx-a: 2\r\nContent-Length: 5\r\n\r\nhello',
    )
    for (let i = 0; i <= raw.length; i++) {
      const [r] = parse(cut(raw, [i]))
      expect(r).toEqual({
        status: 200,
        headers: { 'content-type': 'text/plain', 'x-a': ['1', '2'], 'content-length': '5' },
        body: 'hello',
        trailers: {},
        keepAlive: true,
      })
    }
  })

  it('reads chunked bodies with extensions and trailers', () => {
    const raw = b(
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nGrpc-Status: 0\r\n\r\n',
    )
    for (let i = 0; i <= raw.length; i++) {
      const [r] = parse(cut(raw, [i]))
      expect(r?.body).toBe('hello world')
      expect(r?.trailers).toEqual({ 'grpc-status': '0' })
    }
  })

  it('has no body for HEAD, 204 and 304, and skips 100 Continue', () => {
    expect(parse([b('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n')], { head: true })[0]?.body).toBe('')
    expect(parse([b('HTTP/1.1 204 No Content\r\n\r\n')])[0]?.status).toBe(204)
    expect(parse([b('HTTP/1.1 304 Not Modified\r\nContent-Length: 3\r\n\r\n')])[0]?.body).toBe('')
    const [r] = parse([b('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok')])
    expect(r).toMatchObject({ status: 201, body: 'ok' })
  })

  it('reads until close without a length, and says the connection is not reusable', () => {
    const p = new ResponseParser()
    let body = ''
    let ended = false
    p.start(
      {
        onHead() {},
        onBody(c) {
          body += c.toString()
        },
        onEnd() {
          ended = true
        },
      },
      false,
    )
    p.execute(b('HTTP/1.1 200 OK\r\n\r\nsome'))
    p.execute(b(' bytes'))
    expect(ended).toBe(false)
    expect(p.finish()).toBe(true)
    expect(ended).toBe(true)
    expect(body).toBe('some bytes')
    expect(p.keepAlive).toBe(false)
  })

  it('follows Connection and HTTP/1.0 keep-alive rules', () => {
    expect(
      parse([b('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')])[0]?.keepAlive,
    ).toBe(false)
    expect(parse([b('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n')])[0]?.keepAlive).toBe(false)
    expect(
      parse([b('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n')])[0]?.keepAlive,
    ).toBe(true)
  })

  it('rejects what can be read two ways (smuggling) and malformed heads', () => {
    const bad = [
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n',
      'HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nX-A: 1\rX-B: 2\r\nContent-Length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\nX-A: 1\r\nContent-Length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nX A: 1\r\n\r\n',
      'HTTP/1.1 200 OK\r\n: 1\r\n\r\n',
      'HTTP/1.1 200 OK\r\nX-A: a\x00b\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n',
      'HTTP/2 200 OK\r\n\r\n',
      'HTTP/1.1 20 OK\r\n\r\n',
      'HTTP/1.1 101 Switching Protocols\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n',
    ]
    for (const raw of bad) {
      try {
        protocolError(() => parse([b(raw)], { count: 2 }))
      } catch (e) {
        throw new Error(`${JSON.stringify(raw)}: ${(e as Error).message}`)
      }
    }
  })

  it('does not reuse a connection that sent bytes after the response', () => {
    const [r] = parse([b('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab')], { count: 2 })
    expect(r).toMatchObject({ body: 'a', keepAlive: false })
  })

  it('rejects a head over the limit', () => {
    const big = `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(MAX_RESPONSE_HEAD)}\r\n\r\n`
    protocolError(() => parse([b(big)]))
    protocolError(() => parse(cut(b(big), [1000, 40_000])))
  })

  it('never loses a response nor throws anything but a protocol error (bounded fuzz)', () => {
    const rng = seeded(0x2f6b)
    for (let n = 0; n < 3000; n++) {
      // A valid response: random fields, a body framed by length or chunks.
      const status = `HTTP/1.1 ${rng.pick([200, 201, 404, 500, 503])} ${rng.pick(['OK', '', 'Whatever It Is'])}`
      const { raw, body } = framedMessage(rng, status)
      const whole = b(raw)
      const { at, mutated } = cutsAndMutation(rng, whole, 3)
      const [r] = parse(cut(whole, at))
      expect(r?.body).toBe(body)
      // The same bytes with a few changed, cut the same way: a response, nothing, or a protocol error.
      try {
        parse(cut(mutated, at))
      } catch (err) {
        expect((err as ProxyError).code).toBe('MESH_ERR_PROXY_UPSTREAM_PROTOCOL')
      }
    }
  })
})
