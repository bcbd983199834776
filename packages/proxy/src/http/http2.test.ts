// HTTP/2 cleartext (h2c) through the proxy with real clients and servers on loopback: an HTTP/2
// prior-knowledge client to an HTTP/1.1 cluster, HTTP/1.1 and HTTP/2 clients to an http2
// cluster (trailers reach the HTTP/2 client), and h2c sniffed on the sidecar capture listeners.
import http2 from 'node:http2'
import net, { type AddressInfo } from 'node:net'
import type { Route } from '@minimesh/api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Destination } from '../listeners/conn.ts'
import type { RunningProxy } from '../proxy.ts'
import {
  call,
  cluster,
  endpoints,
  gatewayConfig,
  gatewayPort,
  startTestProxy,
  startUpstream,
  type Upstream,
} from '../testdata/harness.ts'
import { POD_IP, REVIEWS_IP, sidecarConfig } from '../testdata/sidecar.ts'

interface H2Reply {
  status: number
  headers: http2.IncomingHttpHeaders
  trailers: http2.IncomingHttpHeaders | undefined
  body: string
}

/** One request over a fresh HTTP/2 prior-knowledge connection; `body` chunks are streamed. */
function h2request(port: number, headers: http2.OutgoingHttpHeaders, body: string[] = []): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`)
    session.on('error', reject)
    const req = session.request(headers, { endStream: body.length === 0 })
    let status = 0
    let head: http2.IncomingHttpHeaders = {}
    let trailers: http2.IncomingHttpHeaders | undefined
    let text = ''
    req.on('response', (h) => {
      status = Number(h[':status'])
      head = h
    })
    req.on('trailers', (t) => {
      trailers = t
    })
    req.on('data', (c: Buffer) => {
      text += c
    })
    req.on('end', () => {
      session.close()
      resolve({ status, headers: head, trailers, body: text })
    })
    req.on('error', reject)
    for (const c of body) req.write(c)
    if (body.length > 0) req.end()
  })
}

interface H2Upstream {
  port: number
  seen: {
    httpVersion: string
    authority: string | undefined
    headers: http2.IncomingHttpHeaders
    body: string
  }[]
  close(): Promise<void>
}

/** An h2c upstream: answers JSON about the request, with a response trailer. */
async function startH2Upstream(): Promise<H2Upstream> {
  const seen: H2Upstream['seen'] = []
  const server = http2.createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => {
      body += c
    })
    req.on('end', () => {
      seen.push({
        httpVersion: req.httpVersion,
        authority: req.headers[':authority'],
        headers: req.headers,
        body,
      })
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'h2' })
      res.addTrailers({ 'x-checksum': String(body.length) })
      res.end(JSON.stringify({ version: req.httpVersion, body }))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}

describe('HTTP/2 through the gateway', () => {
  let h1: Upstream
  let h2: H2Upstream
  let proxy: RunningProxy
  let port: number

  beforeAll(async () => {
    h1 = await startUpstream('h1')
    h2 = await startH2Upstream()
    const routes: Route[] = [
      {
        name: 'to-h2',
        match: { path: { prefix: '/h2/' } },
        route: { clusters: [{ name: 'h2up', weight: 1 }] },
      },
      { name: 'to-h1', match: { path: { prefix: '/' } }, route: { clusters: [{ name: 'h1up', weight: 1 }] } },
    ]
    proxy = await startTestProxy(
      gatewayConfig(
        routes,
        [cluster('h1up'), cluster('h2up', { protocol: 'http2' })],
        [endpoints('h1up', [{ port: h1.port }]), endpoints('h2up', [{ port: h2.port }])],
      ),
    )
    port = gatewayPort(proxy)
  })

  afterAll(async () => {
    await proxy.close()
    await Promise.all([h1.close(), h2.close()])
  })

  it('takes an HTTP/2 client to an HTTP/1.1 cluster', async () => {
    const r = await h2request(
      port,
      {
        ':method': 'POST',
        ':path': '/items?x=1',
        ':authority': 'shop.local',
        te: 'trailers',
        'x-custom': 'a',
      },
      ['pay', 'load'],
    )
    expect(r.status).toBe(200)
    expect(r.headers['x-upstream']).toBe('h1')
    for (const name of ['connection', 'keep-alive', 'transfer-encoding', 'upgrade'])
      expect(r.headers[name]).toBeUndefined()
    const seen = h1.seen.at(-1)!
    expect(seen).toMatchObject({ method: 'POST', url: '/items?x=1', body: 'payload' })
    expect(seen.headers.host).toBe('shop.local')
    expect(seen.headers.te).toBe('trailers')
    expect(seen.headers['x-custom']).toBe('a')
    expect(seen.headers['transfer-encoding']).toBe('chunked')
    expect(Object.keys(seen.headers).filter((k) => k.startsWith(':'))).toEqual([])
    const entry = proxy.accessLog.recent.find((e) => e.path === '/items?x=1')
    expect(entry).toMatchObject({ protocol: 'HTTP/2', authority: 'shop.local', response_code: 200 })
  })

  it('takes an HTTP/2 client to an http2 cluster, trailers included', async () => {
    const r = await h2request(port, { ':method': 'POST', ':path': '/h2/echo', ':authority': 'api.local' }, [
      'abc',
    ])
    expect(r.status).toBe(200)
    expect(JSON.parse(r.body)).toEqual({ version: '2.0', body: 'abc' })
    expect(r.trailers?.['x-checksum']).toBe('3')
    expect(h2.seen.at(-1)?.authority).toBe('api.local')
  })

  it('takes an HTTP/1.1 client to an http2 cluster (trailers are dropped for HTTP/1.1)', async () => {
    const r = await call(port, '/h2/from-h1', {
      method: 'POST',
      body: 'hello',
      headers: { host: 'api.local' },
    })
    expect(r.status).toBe(200)
    expect(r.json()).toEqual({ version: '2.0', body: 'hello' })
    expect(r.headers['x-checksum']).toBeUndefined()
    const seen = h2.seen.at(-1)!
    expect(seen.authority).toBe('api.local')
    expect(seen.headers.host).toBeUndefined()
    expect(seen.headers.connection).toBeUndefined()
    expect(proxy.accessLog.recent.find((e) => e.path === '/h2/from-h1')?.protocol).toBe('HTTP/1.1')
  })

  it('survives clients that reset streams or send garbage after the preface', async () => {
    // A stream reset while its request body is still coming.
    const session = http2.connect(`http://127.0.0.1:${port}`)
    const req = session.request({ ':method': 'POST', ':path': '/h2/reset', ':authority': 'api.local' })
    req.write('part')
    await new Promise((r) => setTimeout(r, 20))
    req.close(http2.constants.NGHTTP2_CANCEL)
    await new Promise((r) => req.on('close', r))
    session.close()
    // The preface, then bytes that are no HTTP/2 frame.
    const sock = net.connect(port, '127.0.0.1')
    await new Promise((r) => sock.on('connect', r))
    sock.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')
    sock.write(Buffer.alloc(64, 0xff))
    await new Promise((r) => {
      sock.on('close', r)
      sock.on('error', () => undefined)
      sock.resume()
    })
    const r = await h2request(port, { ':path': '/still-alive', ':authority': 'shop.local' })
    expect(r.status).toBe(200)
    // The reset request was finished and logged as a downstream termination.
    expect(proxy.accessLog.recent.find((e) => e.path === '/h2/reset')?.response_flags).toContain('DC')
  })

  it('serves several streams on one HTTP/2 connection', async () => {
    const session = http2.connect(`http://127.0.0.1:${port}`)
    const one = (i: number) =>
      new Promise<string>((resolve, reject) => {
        const req = session.request({ ':path': `/h2/multi/${i}`, ':authority': 'api.local' })
        let text = ''
        req.on('data', (c: Buffer) => {
          text += c
        })
        req.on('end', () => resolve(text))
        req.on('error', reject)
      })
    const bodies = await Promise.all([0, 1, 2, 3, 4].map(one))
    session.close()
    expect(bodies.map((b) => JSON.parse(b).version)).toEqual(['2.0', '2.0', '2.0', '2.0', '2.0'])
  })
})

describe('h2c on the sidecar capture listeners', () => {
  let reviews: Upstream
  let app: Upstream
  let proxy: RunningProxy
  let dst: Destination = { address: '127.0.0.1', port: 1 }

  beforeAll(async () => {
    reviews = await startUpstream('reviews')
    app = await startUpstream('app')
    proxy = await startTestProxy(
      sidecarConfig({ reviews: [{ address: '127.0.0.1', port: reviews.port }], db: 1, app: app.port }),
      { originalDestination: () => dst },
    )
  })

  afterAll(async () => {
    await proxy.close()
    await Promise.all([reviews.close(), app.close()])
  })

  it('sniffs the HTTP/2 preface on outbound and routes by :authority', async () => {
    dst = { address: REVIEWS_IP, port: 9080 }
    const r = await h2request(proxy.ports.listeners.virtualOutbound!, {
      ':path': '/reviews/1',
      ':authority': 'reviews:9080',
    })
    expect(r.status).toBe(200)
    expect(JSON.parse(r.body).name).toBe('reviews')
    expect(reviews.seen.at(-1)?.headers['x-minimesh-peer']).toBeDefined()
    expect(proxy.accessLog.recent.at(-1)).toMatchObject({ protocol: 'HTTP/2', direction: 'outbound' })
  })

  it('sniffs the HTTP/2 preface on inbound and hands the request to the app', async () => {
    dst = { address: POD_IP, port: 9080 }
    const r = await h2request(proxy.ports.listeners.virtualInbound!, {
      ':path': '/in',
      ':authority': 'me:9080',
    })
    expect(r.status).toBe(200)
    expect(JSON.parse(r.body).name).toBe('app')
    expect(proxy.accessLog.recent.at(-1)).toMatchObject({ protocol: 'HTTP/2', direction: 'inbound' })
  })
})
