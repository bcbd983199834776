import net from 'node:net'
import { PassThrough } from 'node:stream'
import type { Dispatcher } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { H1Pool } from './h1-pool.ts'

interface Result {
  status: number
  headers: Record<string, string | string[]>
  body: string
  error?: Error & { code?: string }
}

/** A raw TCP server: `onRequest` gets each request's bytes as they come and the socket. */
async function rawServer(onData: (socket: net.Socket, data: string) => void): Promise<{
  port: number
  connections: () => number
  received: () => string
  close: () => Promise<void>
}> {
  let count = 0
  let all = ''
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    count++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('data', (d) => {
      all += d.toString('latin1')
      onData(socket, d.toString('latin1'))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => count,
    received: () => all,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise((r) => server.close(r))
    },
  }
}

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
})

function pool(port: number, extra: Partial<ConstructorParameters<typeof H1Pool>[0]> = {}) {
  const events = { connect: 0, disconnect: 0, fail: 0 }
  const p = new H1Pool({
    address: '127.0.0.1',
    port,
    connectTimeoutMs: 1000,
    idleTimeoutMs: 5000,
    maxConnections: undefined,
    maxRequestsPerConnection: undefined,
    onConnect: () => events.connect++,
    onDisconnect: () => events.disconnect++,
    onConnectFail: () => events.fail++,
    ...extra,
  })
  cleanups.push(() => p.destroy())
  return { p, events }
}

function request(
  p: H1Pool,
  opts: Partial<Dispatcher.DispatchOptions> = {},
  onStart?: (c: Dispatcher.DispatchController) => void,
): Promise<Result> {
  return new Promise((resolve) => {
    const r: Result = { status: 0, headers: {}, body: '' }
    p.dispatch({ method: 'GET', path: '/', headers: [], body: null, ...opts } as Dispatcher.DispatchOptions, {
      onRequestStart: (c) => onStart?.(c),
      onResponseStart: (_c, status, headers) => {
        r.status = status
        r.headers = headers as Record<string, string | string[]>
      },
      onResponseData: (_c, chunk) => {
        r.body += chunk.toString()
      },
      onResponseEnd: () => resolve(r),
      onResponseError: (_c, err) => resolve({ ...r, error: err }),
    })
  })
}

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'

describe('H1Pool', () => {
  it('keeps a connection alive across requests and writes one head per request', async () => {
    const s = await rawServer((sock) => sock.write(OK))
    cleanups.push(s.close)
    const { p, events } = pool(s.port)
    expect(await request(p, { headers: ['x-a', '1'] })).toMatchObject({ status: 200, body: 'ok' })
    expect(await request(p, { method: 'POST', body: Buffer.from('abc') })).toMatchObject({ body: 'ok' })
    expect(s.connections()).toBe(1)
    expect(events.connect).toBe(1)
    expect(s.received()).toBe(
      `GET / HTTP/1.1\r\nx-a: 1\r\nhost: 127.0.0.1:${s.port}\r\n\r\n` +
        `POST / HTTP/1.1\r\nhost: 127.0.0.1:${s.port}\r\ncontent-length: 3\r\n\r\nabc`,
    )
  })

  it('refuses to send a header value with CR/LF (no request reaches the server)', async () => {
    const s = await rawServer((sock) => sock.write(OK))
    cleanups.push(s.close)
    const { p } = pool(s.port)
    const r = await request(p, { headers: ['x-a', 'v\r\nx-injected: 1'] })
    expect(r.error?.message).toMatch(/invalid x-a header/)
    expect((await request(p, { path: '/a b' })).error?.message).toMatch(/invalid request path/)
    expect(s.connections()).toBe(0)
  })

  it('streams a body of unknown length chunked', async () => {
    const s = await rawServer((sock, d) => {
      if (d.endsWith('0\r\n\r\n')) sock.write(OK)
    })
    cleanups.push(s.close)
    const { p } = pool(s.port)
    const body = new PassThrough()
    const done = request(p, { method: 'POST', body })
    body.write('hello')
    setTimeout(() => body.end('!'), 20)
    expect(await done).toMatchObject({ status: 200 })
    expect(s.received()).toContain('transfer-encoding: chunked\r\n\r\n5\r\nhello\r\n1\r\n!\r\n0\r\n\r\n')
  })

  it('fails a request cut off mid-response, and one answered with a malformed response', async () => {
    const s = await rawServer((sock, d) => {
      if (d.startsWith('GET /cut')) sock.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc')
      else sock.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n')
    })
    cleanups.push(s.close)
    const { p } = pool(s.port)
    expect((await request(p, { path: '/cut' })).error?.code).toBe('UND_ERR_SOCKET')
    expect((await request(p, { path: '/smuggle' })).error?.code).toBe('MESH_ERR_PROXY_UPSTREAM_PROTOCOL')
  })

  it('reports a refused connection with its errno code', async () => {
    const s = await rawServer(() => {})
    const port = s.port
    await s.close()
    const { p, events } = pool(port)
    expect((await request(p)).error?.code).toBe('ECONNREFUSED')
    expect(events.fail).toBe(1)
  })

  it('queues requests at the connection cap and closes after maxRequestsPerConnection', async () => {
    const s = await rawServer((sock) => setTimeout(() => sock.write(OK), 10))
    cleanups.push(s.close)
    const { p } = pool(s.port, { maxConnections: 1, maxRequestsPerConnection: 2 })
    const rs = await Promise.all([request(p), request(p), request(p)])
    expect(rs.map((r) => r.body)).toEqual(['ok', 'ok', 'ok'])
    expect(s.connections()).toBe(2)
  })

  it('aborts a request: the handler hears it and the connection is not reused', async () => {
    const s = await rawServer((sock, d) =>
      sock.write(d.startsWith('GET /slow') ? 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc' : OK),
    )
    cleanups.push(s.close)
    const { p } = pool(s.port)
    let controller: Dispatcher.DispatchController | undefined
    const r = request(p, { path: '/slow' }, (c) => {
      controller = c
    })
    await new Promise((res) => setTimeout(res, 50))
    controller!.abort(new Error('superseded'))
    expect((await r).error?.message).toBe('superseded')
    expect((await request(p)).body).toBe('ok')
    expect(s.connections()).toBe(2)
  })
})
