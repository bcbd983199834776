// The downstream HTTP/1.x codec on real sockets: framing of requests and responses, keep-alive
// and pipelining, Expect, Upgrade hand-over, bad input (400 before anything is handed on) and
// header injection; and the request parser alone, with a bounded seeded fuzz test.
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ProxyError } from '../errors.ts'
import { cut, cutsAndMutation, framedMessage, seeded } from '../testdata/h1-fuzz.ts'
import { type RequestHead, RequestParser, type RequestSink } from './h1-request.ts'
import { type H1Request, type H1Response, H1Server } from './h1-server.ts'

const b = (s: string) => Buffer.from(s, 'latin1')

interface Parsed {
  head: RequestHead
  body: string
}

/** Feeds `pieces` to a request parser that never holds; returns the whole requests. */
function parse(pieces: readonly Buffer[]): Parsed[] {
  const out: Parsed[] = []
  let cur: { head: RequestHead; chunks: Buffer[] } | undefined
  const sink: RequestSink = {
    onRequest: (head) => {
      cur = { head, chunks: [] }
    },
    onRequestBody: (c) => cur!.chunks.push(Buffer.from(c)),
    onRequestEnd: () => {
      out.push({ head: cur!.head, body: Buffer.concat(cur!.chunks).toString('latin1') })
      cur = undefined
    },
    onRest: () => {},
  }
  const p = new RequestParser(sink, 8 * 1024)
  for (const piece of pieces) p.execute(piece)
  return out
}

function badRequest(fn: () => unknown): void {
  expect(fn).toThrow(ProxyError)
  try {
    fn()
  } catch (err) {
    expect((err as ProxyError).code).toBe('MESH_ERR_PROXY_BAD_REQUEST')
  }
}

describe('request parser', () => {
  it('reads heads, lower-cases names and frames bodies by length and by chunks', () => {
    const [a, c] = parse([
      b('POST /a?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nX-Y:  v  \r\n\r\nabc'),
      b('POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2;ext=1\r\nab\r\n1\r\nc\r\n0\r\nT: x\r\n\r\n'),
    ])
    expect(a?.head).toMatchObject({ method: 'POST', url: '/a?x=1', httpVersion: '1.1', keepAlive: true })
    expect(a?.head.rawHeaders).toEqual(['host', 'h', 'content-length', '3', 'x-y', 'v'])
    expect(a?.body).toBe('abc')
    expect(c?.body).toBe('abc')
  })

  it('keeps HTTP/1.0 connections only when asked, and skips empty lines before a request', () => {
    const [x, y] = parse([
      b('\r\nGET / HTTP/1.0\r\n\r\n'),
      b('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'),
    ])
    expect(x?.head.keepAlive).toBe(false)
    expect(y?.head.keepAlive).toBe(true)
  })

  it('marks upgrades and 100-continue', () => {
    const heads: RequestHead[] = []
    const rest: string[] = []
    const p = new RequestParser(
      {
        onRequest: (h) => heads.push(h),
        onRequestBody: () => {},
        onRequestEnd: () => {},
        onRest: (bytes) => rest.push(bytes.toString('latin1')),
      },
      1024,
    )
    p.execute(
      b('GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 2\r\n\r\ntunnel'),
    )
    expect(heads[0]?.upgrade).toBe(true)
    expect(rest).toEqual(['tunnel'])
    const [e] = parse([b('PUT / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx')])
    expect(e?.head.expectContinue).toBe(true)
  })

  it('refuses what could be read two ways', () => {
    for (const text of [
      'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
      'POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n',
      'POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n',
      'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n',
      'POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
      'POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n',
      'GET /a b HTTP/1.1\r\n\r\n',
      'GET /\x7f HTTP/1.1\r\n\r\n',
      'GET / HTTP/2.0\r\n\r\n',
      'G(T / HTTP/1.1\r\n\r\n',
      'GET / HTTP/1.1\nHost: a\r\n\r\n',
      'GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n',
      'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX0\r\n\r\n',
    ])
      badRequest(() => parse([b(text)]))
  })

  it('refuses a head over the limit, however it is cut', () => {
    const big = b(`GET / HTTP/1.1\r\nX-Big: ${'a'.repeat(9000)}\r\n\r\n`)
    badRequest(() => parse([big]))
    badRequest(() => parse(cut(big, [100, 5000])))
  })

  it('never loses a request nor throws anything but a bad-request error (bounded fuzz)', () => {
    const rng = seeded(0x51c3)
    for (let n = 0; n < 3000; n++) {
      const line = `${rng.pick(['GET', 'POST', 'PUT', 'M-SEARCH'])} ${rng.pick(['/', '/a?b=c', '*', 'http://h/x'])} HTTP/1.1`
      const { raw, body } = framedMessage(rng, line)
      // Two of the same, back to back (pipelined): both come out whole.
      const whole = b(raw + raw)
      const { at, mutated } = cutsAndMutation(rng, whole, 3)
      expect(parse(cut(whole, at)).map((r) => r.body)).toEqual([body, body])
      try {
        parse(cut(mutated, at))
      } catch (err) {
        expect((err as ProxyError).code).toBe('MESH_ERR_PROXY_BAD_REQUEST')
      }
    }
  })
})

/** Sends `text` on a new connection; resolves with everything read until the server closes or `ms`. */
function exchange(port: number, text: string | string[], ms = 1500): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1', () => {
      const parts = Array.isArray(text) ? text : [text]
      let i = 0
      const next = () => {
        if (i < parts.length) sock.write(parts[i++]!, 'latin1', () => setTimeout(next, 20))
      }
      next()
    })
    let got = ''
    sock.on('data', (d: Buffer) => {
      got += d.toString('latin1')
    })
    const done = () => resolve(got)
    sock.on('error', done)
    sock.on('close', done)
    setTimeout(() => sock.destroy(), ms)
  })
}

describe('H1Server on real sockets', () => {
  const seen: { method: string; url: string; body: string; headers: Record<string, unknown> }[] = []
  const upgrades: { url: string; head: string }[] = []
  let bad = 0
  let server: net.Server
  let h1: H1Server<string>
  let port: number

  /** Answers by path: /slow waits 100 ms; /local answers at once with a fixed length; /inject writes a bad header. */
  function handle(req: H1Request, res: H1Response): void {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      seen.push({
        method: req.method,
        url: req.url,
        body: Buffer.concat(chunks).toString(),
        headers: req.headers,
      })
      const answer = () => {
        if (req.url === '/inject') {
          expect(() => res.writeHead(200, ['x-a', 'ok\r\nx-injected: yes'])).toThrow(/Invalid character/)
          res.writeHead(200, ['content-length', '2'])
          res.end(b('ok'))
          return
        }
        if (req.url === '/nobody') {
          res.writeHead(204, ['x-n', '1'])
          res.end()
          return
        }
        if (req.url === '/length') {
          res.writeHead(200, ['content-length', '5'])
          res.end(b('hello'))
          return
        }
        // No length: chunked for HTTP/1.1, until close for HTTP/1.0.
        res.writeHead(200, ['x-url', req.url])
        res.write(b(`${req.method} `))
        res.end(b(Buffer.concat(chunks).toString() || req.url))
      }
      if (req.url.startsWith('/slow')) setTimeout(answer, 100)
      else answer()
    })
  }

  beforeAll(async () => {
    h1 = new H1Server<string>(
      { maxHeaderSize: 8 * 1024, keepAliveTimeoutMs: 60_000 },
      {
        request: (_conn, req, res) => handle(req, res),
        upgrade: (_conn, req, socket, head) => {
          upgrades.push({ url: req.url, head: head.toString('latin1') })
          socket.end('HTTP/1.1 101 Switching Protocols\r\n\r\nhello tunnel')
        },
        badRequest: () => {
          bad++
        },
      },
    )
    server = net.createServer({ allowHalfOpen: true }, (socket) => h1.serve(socket, 'conn'))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    port = (server.address() as net.AddressInfo).port
  })
  afterAll(async () => {
    h1.closeAll()
    await new Promise<void>((r) => server.close(() => r()))
  })

  it('answers a request with a length, chunked without one, and keeps the connection', async () => {
    const got = await exchange(port, [
      'GET /length HTTP/1.1\r\nHost: a\r\n\r\n',
      'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc',
    ])
    expect(got).toMatch(/^HTTP\/1\.1 200 OK\r\ncontent-length: 5\r\ndate: [^\r]+ GMT\r\n\r\nhello/)
    expect(got).toContain('x-url: /echo\r\ntransfer-encoding: chunked\r\n')
    expect(got).toMatch(/\r\n\r\n5\r\nPOST \r\n3\r\nabc\r\n0\r\n\r\n$/)
    expect(got).not.toContain('connection: close')
  })

  it('keeps pipelined responses in request order', async () => {
    const got = await exchange(
      port,
      'GET /slow/1 HTTP/1.1\r\nHost: a\r\n\r\nGET /length HTTP/1.1\r\nHost: a\r\n\r\nGET /slow/3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    )
    const order = [...got.matchAll(/x-url: (\/slow\/\d)|hello/g)].map((m) => m[1] ?? 'hello')
    expect(order).toEqual(['/slow/1', 'hello', '/slow/3'])
    expect(got).toMatch(/x-url: \/slow\/3\r\n[\s\S]*connection: close\r\n[\s\S]*\/slow\/3\r\n0\r\n\r\n$/)
  })

  it('reads a chunked body and answers Expect: 100-continue itself', async () => {
    const got = await exchange(port, [
      'PUT /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n',
      '4\r\nwxyz\r\n0\r\n\r\n',
    ])
    expect(got).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/)
    expect(seen.at(-1)).toMatchObject({ method: 'PUT', url: '/up', body: 'wxyz' })
  })

  it('ends an HTTP/1.0 response without a length by closing; no body for HEAD and 204', async () => {
    const got10 = await exchange(port, 'GET /ten HTTP/1.0\r\n\r\n')
    expect(got10).toMatch(
      /^HTTP\/1\.1 200 OK\r\nx-url: \/ten\r\nconnection: close\r\n[\s\S]*\r\n\r\nGET \/ten$/,
    )
    const head = await exchange(port, 'HEAD /length HTTP/1.1\r\nConnection: close\r\n\r\n')
    expect(head).toMatch(/content-length: 5\r\n[\s\S]*\r\n\r\n$/)
    const nobody = await exchange(port, 'GET /nobody HTTP/1.1\r\nConnection: close\r\n\r\n')
    expect(nobody).toMatch(/^HTTP\/1\.1 204 No Content\r\nx-n: 1\r\n/)
    expect(nobody).not.toContain('transfer-encoding')
  })

  it('joins repeated fields as node:http does', async () => {
    await exchange(
      port,
      'GET /h HTTP/1.1\r\nX-A: 1\r\nx-a: 2\r\nUser-Agent: u1\r\nUser-Agent: u2\r\nConnection: close\r\n\r\n',
    )
    expect(seen.at(-1)?.headers).toMatchObject({ 'x-a': '1, 2', 'user-agent': 'u1' })
  })

  it('refuses a header value with CR LF in a response head (no injection)', async () => {
    const got = await exchange(port, 'GET /inject HTTP/1.1\r\nConnection: close\r\n\r\n')
    expect(got).toMatch(/^HTTP\/1\.1 200 OK\r\ncontent-length: 2\r\n/)
    expect(got).not.toContain('x-injected')
  })

  it('answers 400 to a request malformed in the bytes read with its head, before handing it on', async () => {
    const before = seen.length
    const badBefore = bad
    const got = await exchange(
      port,
      'POST /bad-chunk HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n',
    )
    expect(got).toBe(
      'HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\ncontent-length: 11\r\nconnection: close\r\n\r\nbad request',
    )
    expect(seen.length).toBe(before)
    expect(bad).toBe(badBefore + 1)
  })

  it('answers a good request, then 400 to a bad one pipelined after it, and closes', async () => {
    const before = seen.length
    const got = await exchange(
      port,
      'POST /first HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nabcdGET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
    )
    expect(got).toMatch(
      /^HTTP\/1\.1 200 OK\r\n[\s\S]*abcd\r\n0\r\n\r\nHTTP\/1\.1 400 Bad Request\r\n[\s\S]*bad request$/,
    )
    expect(seen.slice(before).map((r) => r.url)).toEqual(['/first'])
  })

  it('cuts off a request whose body turns malformed later', async () => {
    const got = await exchange(port, [
      'POST /slow/body HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n',
      'zz\r\n',
    ])
    expect(got).toMatch(/^HTTP\/1\.1 400 /)
    expect(seen.some((s) => s.url === '/slow/body')).toBe(false)
  })

  it('hands an Upgrade over with the bytes read after its head; CONNECT gets 405', async () => {
    const got = await exchange(
      port,
      'GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nearly bytes',
    )
    expect(got).toBe('HTTP/1.1 101 Switching Protocols\r\n\r\nhello tunnel')
    expect(upgrades.at(-1)).toEqual({ url: '/ws', head: 'early bytes' })
    const connect = await exchange(port, 'CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n')
    expect(connect).toMatch(/^HTTP\/1\.1 405 /)
  })

  it('closes idle connections when draining; a request in flight finishes with connection: close', async () => {
    const idle = net.connect(port, '127.0.0.1')
    await new Promise((r) => idle.once('connect', r))
    const idleClosed = new Promise((r) => idle.once('close', r))
    const inflight = exchange(port, 'GET /slow/drain HTTP/1.1\r\nHost: a\r\n\r\n')
    await new Promise((r) => setTimeout(r, 50))
    h1.closeIdle()
    await idleClosed
    const got = await inflight
    expect(got).toMatch(
      /^HTTP\/1\.1 200 OK\r\n[\s\S]*connection: close\r\n[\s\S]*\/slow\/drain\r\n0\r\n\r\n$/,
    )
    h1.closing = false
  })
})
