// Routing features end to end: a proxy on a free port in front of real upstream servers.
import type { Route } from '@minimesh/api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
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

const to = (name: string, weight = 1) => ({ name, weight })

describe('routing', () => {
  let a: Upstream
  let b: Upstream
  let slow: Upstream
  let proxy: RunningProxy
  let port: number

  beforeAll(async () => {
    a = await startUpstream('a')
    b = await startUpstream('b')
    slow = await startUpstream('slow', (_req, res) => {
      setTimeout(() => res.writeHead(200).end('late'), 400)
    })
    const routes: Route[] = [
      { name: 'exact', match: { path: { exact: '/exact' } }, route: { clusters: [to('b')] } },
      { name: 'regex', match: { path: { regex: '/items/[0-9]+' } }, route: { clusters: [to('b')] } },
      {
        name: 'header',
        match: { headers: [{ name: 'end-user', match: { exact: 'jason' } }] },
        route: { clusters: [to('b')] },
      },
      {
        name: 'header-prefix',
        match: { headers: [{ name: 'x-team', match: { prefix: 'blue' } }] },
        route: { clusters: [to('b')] },
      },
      {
        name: 'header-present',
        match: { headers: [{ name: 'x-debug', match: { present: true } }] },
        route: { clusters: [to('b')] },
      },
      {
        name: 'query',
        match: { queryParams: [{ name: 'canary', match: { exact: '1' } }] },
        route: { clusters: [to('b')] },
      },
      { name: 'method', match: { method: { exact: 'DELETE' } }, route: { clusters: [to('b')] } },
      { name: 'port-other', match: { port: 9999 }, route: { clusters: [to('b')] } },
      {
        name: 'rewrite',
        match: { path: { prefix: '/old/' } },
        route: { clusters: [to('a')], rewrite: { uri: '/new/', authority: 'rewritten.local' } },
      },
      {
        name: 'redirect',
        match: { path: { exact: '/moved' } },
        redirect: { path: '/there', host: 'elsewhere', code: 301 },
      },
      {
        name: 'direct',
        match: { path: { exact: '/direct' } },
        directResponse: { status: 418, body: 'teapot' },
      },
      {
        name: 'headers',
        match: { path: { prefix: '/hdr' } },
        requestHeaders: { set: { 'x-set': 'one' }, add: { 'x-add': 'two' }, remove: ['x-drop'] },
        responseHeaders: { set: { 'x-resp': 'yes' }, remove: ['x-upstream'] },
        route: { clusters: [{ name: 'a', weight: 1, requestHeaders: { set: { 'x-dest': 'a' } } }] },
      },
      {
        name: 'timeout',
        match: { path: { prefix: '/slow' } },
        route: { clusters: [to('slow')], timeoutMs: 100 },
      },
      {
        name: 'slow-ok',
        match: { path: { prefix: '/patient' } },
        route: { clusters: [to('slow')], timeoutMs: 2000 },
      },
      {
        name: 'abort',
        match: { path: { prefix: '/abort' } },
        fault: { abort: { httpStatus: 555, percent: 100 } },
        route: { clusters: [to('a')] },
      },
      {
        name: 'delay',
        match: { path: { prefix: '/delay' } },
        // The delay does not count against the 100 ms timeout.
        fault: { delay: { fixedDelayMs: 300, percent: 100 } },
        route: { clusters: [to('a')], timeoutMs: 100 },
      },
      {
        name: 'split',
        match: { path: { prefix: '/split' } },
        route: { clusters: [to('a', 50), to('b', 50)] },
      },
      {
        name: 'mirror',
        match: { path: { prefix: '/mirror' } },
        route: { clusters: [to('a')], mirror: { cluster: 'b', percent: 100 } },
      },
      { name: 'default', match: { path: { prefix: '/' } }, route: { clusters: [to('a')] } },
    ]
    proxy = await startTestProxy(
      gatewayConfig(
        routes,
        [cluster('a'), cluster('b'), cluster('slow')],
        [endpoints('a', [a]), endpoints('b', [b]), endpoints('slow', [slow])],
      ),
    )
    port = gatewayPort(proxy)
  })

  afterAll(async () => {
    await proxy.close()
    await Promise.all([a.close(), b.close(), slow.close()])
  })

  const upstreamOf = async (path: string, init?: Parameters<typeof call>[2]) =>
    (await call(port, path, init)).json<{ name: string }>().name

  it('matches uri exact, prefix, regex; first match wins', async () => {
    expect(await upstreamOf('/exact')).toBe('b')
    expect(await upstreamOf('/exact/more')).toBe('a')
    expect(await upstreamOf('/items/42')).toBe('b')
    expect(await upstreamOf('/items/x')).toBe('a')
  })

  it('matches headers exact/prefix/present, query params, method, port', async () => {
    expect(await upstreamOf('/', { headers: { 'end-user': 'jason' } })).toBe('b')
    expect(await upstreamOf('/', { headers: { 'end-user': 'bob' } })).toBe('a')
    expect(await upstreamOf('/', { headers: { 'x-team': 'blue-7' } })).toBe('b')
    expect(await upstreamOf('/', { headers: { 'x-debug': '' } })).toBe('b')
    expect(await upstreamOf('/?canary=1')).toBe('b')
    expect(await upstreamOf('/?canary=2')).toBe('a')
    expect(await upstreamOf('/', { method: 'DELETE' })).toBe('b')
  })

  it('rewrites prefix and authority, keeps the query', async () => {
    const r = (await call(port, '/old/thing?q=1')).json<{ url: string; headers: Record<string, string> }>()
    expect(r.url).toBe('/new/thing?q=1')
    expect(r.headers.host).toBe('rewritten.local')
  })

  it('redirects and answers directly without an upstream', async () => {
    const seenBefore = a.seen.length + b.seen.length
    const r = await call(port, '/moved?x=1')
    expect(r.status).toBe(301)
    expect(r.headers.location).toBe('http://elsewhere/there?x=1')
    const d = await call(port, '/direct')
    expect(d.status).toBe(418)
    expect(d.text).toBe('teapot')
    expect(a.seen.length + b.seen.length).toBe(seenBefore)
  })

  it('sets, adds and removes request and response headers', async () => {
    const r = await call(port, '/hdr', { headers: { 'x-drop': 'gone', 'x-set': 'old', 'x-add': 'first' } })
    const h = r.json<{ headers: Record<string, string> }>().headers
    expect(h['x-set']).toBe('one')
    expect(h['x-add']).toBe('first, two')
    expect(h['x-drop']).toBeUndefined()
    expect(h['x-dest']).toBe('a')
    expect(r.headers['x-resp']).toBe('yes')
    expect(r.headers['x-upstream']).toBeUndefined()
  })

  it('times out with 504 UT, and a timeout long enough lets the response through', async () => {
    const r = await call(port, '/slow')
    expect(r.status).toBe(504)
    expect(r.text).toBe('upstream request timeout')
    expect(proxy.accessLog.recent.at(-1)?.response_flags).toBe('UT')
    expect((await call(port, '/patient')).text).toBe('late')
  })

  it('injects aborts (FI) and delays (DI) outside the route timeout', async () => {
    const r = await call(port, '/abort')
    expect(r.status).toBe(555)
    expect(proxy.accessLog.recent.at(-1)?.response_flags).toBe('FI')
    const t0 = performance.now()
    const d = await call(port, '/delay')
    expect(d.status).toBe(200)
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290)
    expect(proxy.accessLog.recent.at(-1)?.response_flags).toBe('DI')
  })

  it('splits by weight (chi-square, 1 dof, p = 0.001)', async () => {
    const n = 400
    let toA = 0
    for (let i = 0; i < n; i++) if ((await upstreamOf('/split')) === 'a') toA++
    const chi2 = ((toA - n / 2) ** 2 + (n - toA - n / 2) ** 2) / (n / 2)
    expect(chi2).toBeLessThan(10.83)
  })

  it('mirrors to another cluster without waiting, Host suffixed -shadow', async () => {
    const before = b.seen.length
    const r = await call(port, '/mirror', { method: 'POST', body: 'copy me' })
    expect(r.json<{ name: string }>().name).toBe('a')
    await expect.poll(() => b.seen.length).toBe(before + 1)
    const m = b.seen.at(-1)!
    expect(m.headers.host).toBe('test.local-shadow')
    expect(m.body).toBe('copy me')
  })

  it('returns 404 NR when no route matches', async () => {
    const p2 = await startTestProxy(
      gatewayConfig(
        [{ match: { path: { exact: '/only' } }, route: { clusters: [to('a')] } }],
        [cluster('a')],
        [endpoints('a', [a])],
      ),
    )
    const r = await call(gatewayPort(p2), '/other')
    expect(r.status).toBe(404)
    expect(p2.accessLog.recent.at(-1)?.response_flags).toBe('NR')
    await p2.close()
  })
})
