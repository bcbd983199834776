// Bad input from downstream never reaches the application: malformed requests, oversized
// heads and request-smuggling attempts are answered 400 by the proxy; a configuration whose
// rewritten values would inject headers is refused.
import net from 'node:net'
import type { Route } from '@minimesh/api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningProxy } from '../proxy.ts'
import {
  cluster,
  endpoints,
  gatewayConfig,
  gatewayPort,
  startTestProxy,
  startUpstream,
  type Upstream,
} from '../testdata/harness.ts'

function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(text))
    let got = ''
    sock.on('data', (d: Buffer) => {
      got += d.toString('latin1')
    })
    sock.on('error', () => resolve(got))
    sock.on('close', () => resolve(got))
    setTimeout(() => sock.destroy(), 2000)
  })
}

describe('bad input', () => {
  let app: Upstream
  let proxy: RunningProxy
  let port: number
  beforeAll(async () => {
    app = await startUpstream('app')
    proxy = await startTestProxy(
      gatewayConfig(
        [{ match: {}, route: { clusters: [{ name: 'c', weight: 1 }] } }],
        [cluster('c')],
        [endpoints('c', [app])],
      ),
      {
        maxHeaderSize: 8 * 1024,
      },
    )
    port = gatewayPort(proxy)
  })
  afterAll(async () => {
    await proxy.close()
    await app.close()
  })

  const cases: [string, string][] = [
    ['a malformed request line', 'GARBAGE\r\n\r\n'],
    ['a header without a colon', 'GET / HTTP/1.1\r\nHost: a\r\nNoColonHere\r\n\r\n'],
    ['an invalid header name', 'GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n'],
    ['obsolete line folding', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\n two\r\n\r\n'],
    [
      'Content-Length with Transfer-Encoding (CL.TE smuggling)',
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n',
    ],
    [
      'two different Content-Lengths',
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde',
    ],
    [
      'a bad chunk size',
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n',
    ],
    ['a bare CR inside a header value', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: one\rX-Injected: yes\r\n\r\n'],
    ['a bare CR ending the request line', 'GET / HTTP/1.1\rHost: a\r\n\r\n'],
    [
      'Transfer-Encoding before Content-Length (TE.CL smuggling)',
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\nGPOST / HTTP/1.1\r\n\r\n0\r\n\r\n',
    ],
    ['an oversized head', `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(16 * 1024)}\r\n\r\n`],
  ]

  for (const [what, text] of cases) {
    it(`answers 400 to ${what}, nothing reaches the app`, async () => {
      const before = app.seen.length
      const got = await raw(port, text)
      expect(got).toMatch(/^HTTP\/1\.1 400 /)
      expect(app.seen.length).toBe(before)
    })
  }

  const injecting: [string, Route][] = [
    [
      'a header value with CR LF',
      {
        match: {},
        requestHeaders: { set: { 'x-a': 'ok\r\nx-injected: yes' } },
        route: { clusters: [{ name: 'c', weight: 1 }] },
      },
    ],
    [
      'a rewritten authority with CR LF',
      {
        match: {},
        route: { clusters: [{ name: 'c', weight: 1 }], rewrite: { authority: 'a\r\nx-injected: yes' } },
      },
    ],
    [
      'a destination header name that is not a token',
      {
        match: {},
        route: { clusters: [{ name: 'c', weight: 1, requestHeaders: { add: { 'x-a: b\r\nx-c': 'v' } } }] },
      },
    ],
  ]
  for (const [what, route] of injecting) {
    it(`refuses a configuration with ${what} (header injection); the last good one keeps serving`, async () => {
      const bad = gatewayConfig([route], [cluster('c')], [endpoints('c', [app])])
      await expect(proxy.reload(bad)).rejects.toMatchObject({ code: 'MESH_ERR_PROXY_CONFIG_INVALID' })
      const before = app.seen.length
      const got = await raw(port, 'GET /after HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')
      expect(got).toMatch(/^HTTP\/1\.1 200 /)
      expect(app.seen.length).toBe(before + 1)
      expect(app.seen.at(-1)?.headers['x-injected']).toBeUndefined()
    })
  }

  it('still serves good requests on new connections', async () => {
    const got = await raw(port, 'GET /ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')
    expect(got).toMatch(/^HTTP\/1\.1 200 /)
    expect(app.seen.at(-1)?.url).toBe('/ok')
  })
})
