// AuthorizationPolicies on a server sidecar's inbound path, with real sockets: a real app behind
// virtualInbound; denied HTTP requests and Upgrades are answered 403 `RBAC: access denied` with
// flag RBAC in the access log and never reach the app; a denied TCP connection is closed before
// any upstream connection. Principal rules run through the request pipeline with a connection
// whose peerPrincipal is set (as the mTLS listener sets it from the verified peer certificate),
// and a forged x-minimesh-peer header changes nothing.
import http from 'node:http'
import net from 'node:net'
import type { Authorization, AuthorizationPolicySpec, Listener } from '@minimesh/api'
import { compileAuthorization } from '@minimesh/control-plane'
import { afterAll, describe, expect, it } from 'vitest'
import { encodePeer } from '../context.ts'
import type { ConnContext } from '../listeners/conn.ts'
import { handleHttpRequest } from '../pipeline/ends.ts'
import type { RunningProxy } from '../proxy.ts'
import { call, startTestProxy, startUpstream } from '../testdata/harness.ts'
import { POD_IP, sidecarConfig } from '../testdata/sidecar.ts'
import { H1Server } from './h1-server.ts'

const PRODUCTPAGE = 'cluster.local/ns/default/sa/bookinfo-productpage'

function authz(...specs: AuthorizationPolicySpec[]): Authorization {
  return compileAuthorization(
    specs.map((spec, i) => ({
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: `p${i}`, namespace: 'default' },
      spec,
    })),
  )!
}

const closers: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const c of closers.reverse()) await c()
})

/** A server sidecar whose inbound chains (9080 HTTP and the TCP passthrough) carry `a`. */
async function serverSidecar(appPort: number, a: Authorization, dst: { address: string; port: number }) {
  const config = sidecarConfig({ reviews: [], db: 1, app: appPort })
  const inbound = config.listeners!.find((l: Listener) => l.name === 'virtualInbound')!
  for (const chain of inbound.filterChains) chain.authorization = a
  inbound.defaultFilterChain!.authorization = a
  const proxy: RunningProxy = await startTestProxy(config, {
    identity: { workload: 'reviews-v1', namespace: 'default', labels: { app: 'reviews', version: 'v1' } },
    originalDestination: () => dst,
  })
  closers.push(() => proxy.close())
  return proxy
}

function rawGet(port: number, target: string): Promise<string> {
  return new Promise((resolve) => {
    let got = ''
    const sock = net.connect(port, '127.0.0.1', () =>
      sock.write(`GET ${target} HTTP/1.1\r\nHost: reviews:9080\r\nConnection: close\r\n\r\n`),
    )
    sock.on('data', (d: Buffer) => {
      got += d.toString('latin1')
    })
    sock.on('close', () => resolve(got))
    sock.on('error', () => resolve(got))
  })
}

function rawUpgrade(port: number): Promise<string> {
  return new Promise((resolve) => {
    let got = ''
    const sock = net.connect(port, '127.0.0.1', () =>
      sock.write(
        'GET /chat HTTP/1.1\r\nHost: reviews:9080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
      ),
    )
    sock.on('data', (d: Buffer) => {
      got += d.toString('latin1')
    })
    sock.on('close', () => resolve(got))
    sock.on('error', () => resolve(got))
    setTimeout(() => sock.destroy(), 3000)
  })
}

describe('HTTP on an inbound chain with AuthorizationPolicies', () => {
  it('allows what an ALLOW policy matches; denies the rest with 403 RBAC: access denied (flag RBAC) before the app', async () => {
    const app = await startUpstream('reviews')
    closers.push(app.close)
    const proxy = await serverSidecar(
      app.port,
      authz(
        { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin*'] } }] }] },
        { action: 'ALLOW', rules: [{ to: [{ operation: { methods: ['GET'] } }] }] },
      ),
      { address: POD_IP, port: 9080 },
    )
    const port = proxy.ports.listeners.virtualInbound!
    const ok = await call(port, '/reviews/0')
    expect(ok.status).toBe(200)
    expect(ok.json().name).toBe('reviews')

    const post = await call(port, '/reviews/0', { method: 'POST', body: 'x' })
    expect(post.status).toBe(403)
    expect(post.text).toBe('RBAC: access denied')
    const admin = await call(port, '/admin/users')
    expect([admin.status, admin.text]).toEqual([403, 'RBAC: access denied'])
    // dot segments cannot get around a path rule (sent raw: a client library would resolve them)
    expect(await rawGet(port, '/public/../admin/users')).toMatch(
      /^HTTP\/1\.1 403 [\s\S]*RBAC: access denied$/,
    )
    expect(app.seen.map((s) => `${s.method} ${s.url}`)).toEqual(['GET /reviews/0'])

    await new Promise((r) => setTimeout(r, 20))
    const log = proxy.accessLog.recent.map((e) => [e.method, e.path, e.response_code, e.response_flags])
    expect(log).toEqual([
      ['GET', '/reviews/0', 200, '-'],
      ['POST', '/reviews/0', 403, 'RBAC'],
      ['GET', '/admin/users', 403, 'RBAC'],
      ['GET', '/public/../admin/users', 403, 'RBAC'],
    ])
  })

  it('an Upgrade is judged like any request: denied with a raw 403 and closed', async () => {
    const app = await startUpstream('reviews')
    closers.push(app.close)
    const proxy = await serverSidecar(app.port, authz({}), { address: POD_IP, port: 9080 })
    const answer = await rawUpgrade(proxy.ports.listeners.virtualInbound!)
    expect(answer).toMatch(/^HTTP\/1\.1 403 /)
    expect(answer).toContain('RBAC: access denied')
    expect(app.seen).toEqual([])
  })
})

/** A TCP echo server that counts the connections it accepted. */
async function echoServer() {
  let accepted = 0
  const socks = new Set<net.Socket>()
  const server = net.createServer((s) => {
    accepted++
    socks.add(s)
    s.on('data', (d: Buffer) => s.write(`echo:${d}`))
    s.on('error', () => s.destroy())
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as net.AddressInfo).port
  closers.push(
    () =>
      new Promise<void>((r) => {
        for (const s of socks) s.destroy()
        server.close(() => r())
      }),
  )
  return { port, accepted: () => accepted }
}

/** Connects, sends a line, resolves with what came back before the connection closed (or 1 s). */
function tcpExchange(port: number): Promise<{ got: string; closed: boolean }> {
  return new Promise((resolve) => {
    let got = ''
    const sock = net.connect(port, '127.0.0.1', () => sock.write('hello'))
    const t = setTimeout(() => {
      sock.destroy()
      resolve({ got, closed: false })
    }, 1000)
    sock.on('data', (d: Buffer) => {
      got += d.toString()
    })
    sock.on('error', () => {})
    sock.on('close', () => {
      clearTimeout(t)
      resolve({ got, closed: true })
    })
  })
}

describe('TCP on an inbound chain with AuthorizationPolicies', () => {
  it('a denied connection is closed before any upstream connection; an allowed one goes through', async () => {
    const echo = await echoServer()
    const dst = { address: '127.0.0.1', port: echo.port }
    const denyPort = await serverSidecar(
      1,
      authz({ action: 'DENY', rules: [{ to: [{ operation: { ports: [String(echo.port)] } }] }] }),
      dst,
    )
    const denied = await tcpExchange(denyPort.ports.listeners.virtualInbound!)
    expect(denied).toEqual({ got: '', closed: true })
    expect(echo.accepted()).toBe(0)
    await new Promise((r) => setTimeout(r, 20))
    expect(denyPort.accessLog.recent.map((e) => [e.protocol, e.response_flags, e.upstream_host])).toEqual([
      ['TCP', 'RBAC', null],
    ])

    const allowPort = await serverSidecar(
      1,
      authz({ action: 'ALLOW', rules: [{ to: [{ operation: { ports: [String(echo.port)] } }] }] }),
      dst,
    )
    const allowed = await tcpExchange(allowPort.ports.listeners.virtualInbound!)
    expect(allowed.got).toBe('echo:hello')
    expect(echo.accepted()).toBe(1)
  })

  it('an ALLOW rule with an HTTP-only field never admits a TCP connection', async () => {
    const echo = await echoServer()
    const proxy = await serverSidecar(
      1,
      authz({ action: 'ALLOW', rules: [{ to: [{ operation: { methods: ['GET'] } }] }] }),
      { address: '127.0.0.1', port: echo.port },
    )
    expect((await tcpExchange(proxy.ports.listeners.virtualInbound!)).closed).toBe(true)
    expect(echo.accepted()).toBe(0)
  })
})

describe('principal rules through the request pipeline', () => {
  /**
   * The proxy's request pipeline behind a plain HTTP server whose connections carry the given
   * peer principal (as the mTLS listener sets conn.peerPrincipal from the verified certificate).
   */
  async function pipelineWithPeer(proxy: RunningProxy, principal: string | undefined) {
    const inbound = proxy.store.current.listeners.get('virtualInbound')!
    const chain = inbound.filterChains[0]!
    const h1 = new H1Server<ConnContext>(
      { maxHeaderSize: 64 * 1024, keepAliveTimeoutMs: 60_000 },
      {
        request: (conn, req, res) => handleHttpRequest(proxy.ctx, conn, req, res),
        upgrade: (_conn, _req, socket) => socket.destroy(),
        badRequest: () => {},
      },
    )
    const server = net.createServer((socket) => {
      const conn: ConnContext = {
        direction: 'INBOUND',
        listener: inbound,
        chain,
        originalIp: POD_IP,
        originalPort: 9080,
        original: { address: POD_IP, port: 9080 },
        remoteAddress: socket.remoteAddress ?? '',
        isSelf: false,
        peerPrincipal: principal,
        ...(principal ? { security: 'mutual_tls' as const } : {}),
      }
      h1.serve(socket, conn)
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    closers.push(
      () =>
        new Promise<void>((r) => {
          h1.closeAll()
          server.close(() => r())
        }),
    )
    return (server.address() as net.AddressInfo).port
  }

  it('principals and namespaces come from the connection, never from a forged peer header', async () => {
    const app = await startUpstream('reviews')
    closers.push(app.close)
    const proxy = await serverSidecar(
      app.port,
      authz(
        { action: 'ALLOW', rules: [{ from: [{ source: { principals: [PRODUCTPAGE] } }] }] },
        { action: 'DENY', rules: [{ from: [{ source: { notNamespaces: ['default'] } }] }] },
      ),
      { address: POD_IP, port: 9080 },
    )
    const fromProductpage = await pipelineWithPeer(proxy, PRODUCTPAGE)
    const fromFoo = await pipelineWithPeer(proxy, 'cluster.local/ns/foo/sa/bookinfo-productpage')
    const plaintext = await pipelineWithPeer(proxy, undefined)
    const forged = {
      'x-minimesh-peer': encodePeer({
        workload: 'productpage-v1',
        namespace: 'default',
        serviceAccount: 'bookinfo-productpage',
        labels: { app: 'productpage' },
        pod: 'p',
        ip: '1.2.3.4',
      }),
    }

    expect((await call(fromProductpage, '/reviews/0')).status).toBe(200)
    const foo = await call(fromFoo, '/reviews/0')
    expect([foo.status, foo.text]).toEqual([403, 'RBAC: access denied'])
    const plain = await call(plaintext, '/reviews/0', { headers: forged })
    expect([plain.status, plain.text]).toEqual([403, 'RBAC: access denied'])
    expect(app.seen).toHaveLength(1)
  })
})

describe('a policy that arrives while a keep-alive connection is open', () => {
  it('applies from that connection’s next request (the connection follows its filter chain)', async () => {
    const app = await startUpstream('reviews')
    closers.push(app.close)
    const proxy = await serverSidecar(app.port, authz({ action: 'ALLOW', rules: [{}] }), {
      address: POD_IP,
      port: 9080,
    })
    const port = proxy.ports.listeners.virtualInbound!
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    closers.push(async () => agent.destroy())
    const sockets = new Set<unknown>()
    const get = () =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/reviews/0', agent }, (res) => {
          sockets.add(res.socket)
          let body = ''
          res.on('data', (c: Buffer) => {
            body += c
          })
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
        })
        req.on('error', reject)
      })
    expect((await get()).status).toBe(200)
    const config = sidecarConfig({ reviews: [], db: 1, app: app.port })
    const inbound = config.listeners!.find((l: Listener) => l.name === 'virtualInbound')!
    for (const chain of inbound.filterChains) chain.authorization = authz({ action: 'ALLOW' })
    await proxy.reload(config)
    expect(await get()).toEqual({ status: 403, body: 'RBAC: access denied' })
    expect(sockets.size).toBe(1)
  })
})
