// Load balancing, consistent hashing, connection-pool limits and outlier detection against real
// upstream servers (some of them failing on purpose).
import type { Cluster } from '@minimesh/api'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
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
import { freePort } from '../testdata/ports.ts'

async function withProxy(
  c: Cluster,
  ups: Upstream[],
  fn: (port: number, proxy: RunningProxy) => Promise<void>,
) {
  const proxy = await startTestProxy(
    gatewayConfig(
      [{ match: {}, route: { clusters: [{ name: c.name, weight: 1 }] } }],
      [c],
      [endpoints(c.name, ups)],
    ),
  )
  try {
    await fn(gatewayPort(proxy), proxy)
  } finally {
    await proxy.close()
  }
}

const nameOf = async (port: number, init?: Parameters<typeof call>[2]) =>
  (await call(port, '/', init)).json<{ name: string }>().name

describe('load balancing', () => {
  let ups: Upstream[]
  beforeAll(async () => {
    ups = await Promise.all(['u0', 'u1', 'u2'].map((n) => startUpstream(n)))
  })
  afterAll(async () => {
    await Promise.all(ups.map((u) => u.close()))
  })

  it('ROUND_ROBIN cycles through every host', async () => {
    await withProxy(cluster('c', { lbPolicy: 'ROUND_ROBIN' }), ups, async (port) => {
      const got = []
      for (let i = 0; i < 6; i++) got.push(await nameOf(port))
      expect(new Set(got.slice(0, 3)).size).toBe(3)
      expect(got.slice(3)).toEqual(got.slice(0, 3))
    })
  })

  it('RANDOM and LEAST_REQUEST reach every host', async () => {
    for (const lbPolicy of ['RANDOM', 'LEAST_REQUEST'] as const) {
      await withProxy(cluster('c', { lbPolicy }), ups, async (port) => {
        const got = new Set<string>()
        for (let i = 0; i < 60; i++) got.add(await nameOf(port))
        expect(got.size).toBe(3)
      })
    }
  })

  it('LEAST_REQUEST avoids a host that is busy', async () => {
    // `busy` holds every request until the quick ones are done (no timer: on a slow machine a
    // timer could end before them, and `busy` would be idle again).
    const held: Array<() => void> = []
    const busy = await startUpstream('busy', (_req, res) => held.push(() => res.end('{"name":"busy"}')))
    const free = await startUpstream('free')
    await withProxy(cluster('c', { lbPolicy: 'LEAST_REQUEST' }), [busy, free], async (port) => {
      // Concurrent requests: those on `busy` stay in flight.
      const load = Array.from({ length: 6 }, () => nameOf(port))
      await vi.waitFor(() => expect(held.length).toBeGreaterThan(0))
      const quick = []
      for (let i = 0; i < 10; i++) quick.push(await nameOf(port))
      for (const release of held) release()
      const first = await Promise.all(load)
      expect(first).toContain('busy')
      expect(quick.filter((n) => n === 'free').length).toBe(10)
    })
    await busy.close()
    await free.close()
  })

  it('consistent hash by header sticks per key and spreads keys', async () => {
    await withProxy(
      cluster('c', { lbPolicy: 'RING_HASH', hashPolicy: { header: 'x-user' } }),
      ups,
      async (port) => {
        const owners = new Set<string>()
        for (let u = 0; u < 30; u++) {
          const first = await nameOf(port, { headers: { 'x-user': `user-${u}` } })
          for (let i = 0; i < 3; i++)
            expect(await nameOf(port, { headers: { 'x-user': `user-${u}` } })).toBe(first)
          owners.add(first)
        }
        expect(owners.size).toBeGreaterThan(1)
      },
    )
  })

  it('consistent hash by cookie sets the cookie when absent, then sticks', async () => {
    await withProxy(
      cluster('c', { lbPolicy: 'RING_HASH', hashPolicy: { cookie: { name: 'sticky', ttlMs: 60_000 } } }),
      ups,
      async (port) => {
        const r = await call(port, '/')
        const setCookie = String(r.headers['set-cookie'])
        expect(setCookie).toMatch(/^sticky=[0-9a-f]+; Path=\/; HttpOnly; Max-Age=60$/)
        const cookie = setCookie.split(';')[0]!
        const first = await nameOf(port, { headers: { cookie } })
        for (let i = 0; i < 5; i++) expect(await nameOf(port, { headers: { cookie } })).toBe(first)
      },
    )
  })

  it('consistent hash by source IP sticks', async () => {
    await withProxy(
      cluster('c', { lbPolicy: 'RING_HASH', hashPolicy: { sourceIp: true } }),
      ups,
      async (port) => {
        const first = await nameOf(port)
        for (let i = 0; i < 5; i++) expect(await nameOf(port)).toBe(first)
      },
    )
  })
})

describe('connection pool limits', () => {
  it('answers 503 UO beyond maxConnections + http1MaxPendingRequests', async () => {
    const slow = await startUpstream('slow', (_req, res) => setTimeout(() => res.end('{"name":"slow"}'), 300))
    await withProxy(
      cluster('c', {
        circuitBreakers: { maxConnections: 1, maxPendingRequests: 1, maxRequestsPerConnection: 1 },
      }),
      [slow],
      async (port, proxy) => {
        const results = await Promise.all(Array.from({ length: 5 }, () => call(port, '/')))
        const codes = results.map((r) => r.status).sort()
        expect(codes).toEqual([200, 200, 503, 503, 503])
        const overflow = proxy.accessLog.recent.filter((e) => e.response_flags === 'UO')
        expect(overflow).toHaveLength(3)
        const metrics = await (await fetch(`http://127.0.0.1:${proxy.ports.stats}/stats/prometheus`)).text()
        expect(metrics).toContain('minimesh_upstream_rq_pending_overflow_total{cluster_name="c"} 3')
        // maxRequestsPerConnection 1: every request had its own connection.
        expect(metrics).toContain('minimesh_upstream_cx_total{cluster_name="c"} 2')
      },
    )
    await slow.close()
  })
})

describe('outlier detection', () => {
  it('ejects a failing host, then returns it after the ejection time', async () => {
    let failing = true
    const bad = await startUpstream('bad', (_req, res) => {
      res.writeHead(failing ? 500 : 200).end('{"name":"bad"}')
    })
    const good = await startUpstream('good')
    await withProxy(
      cluster('c', {
        outlierDetection: {
          consecutive5xx: 2,
          intervalMs: 50,
          baseEjectionTimeMs: 400,
          maxEjectionPercent: 100,
        },
      }),
      [bad, good],
      async (port, proxy) => {
        const codes: number[] = []
        for (let i = 0; i < 6; i++) codes.push((await call(port, '/')).status)
        expect(codes.filter((c) => c === 500)).toHaveLength(2)
        const clusters = (await (await fetch(`http://127.0.0.1:${proxy.ports.admin}/clusters`)).json()) as {
          name: string
          hosts: { port: number; ejected: boolean; ejectionCount: number }[]
        }[]
        const host = clusters.find((c) => c.name === 'c')!.hosts.find((h) => h.port === bad.port)!
        expect(host).toMatchObject({ ejected: true, ejectionCount: 1 })
        for (let i = 0; i < 5; i++) expect(await nameOf(port)).toBe('good')
        failing = false
        await new Promise((r) => setTimeout(r, 500))
        const names = new Set<string>()
        for (let i = 0; i < 4; i++) names.add(await nameOf(port))
        expect(names).toEqual(new Set(['bad', 'good']))
        const metrics = await (await fetch(`http://127.0.0.1:${proxy.ports.stats}/stats/prometheus`)).text()
        expect(metrics).toContain('minimesh_outlier_detection_ejections_total{cluster_name="c"} 1')
      },
    )
    await bad.close()
    await good.close()
  })

  it('counts connection failures (gateway errors) and answers 503 UH when every host is out', async () => {
    // A port with nothing listening: connections are refused.
    const dead = { port: await freePort() } as Upstream
    await withProxy(
      cluster('c', {
        outlierDetection: {
          consecutiveGatewayErrors: 1,
          intervalMs: 1000,
          baseEjectionTimeMs: 10_000,
          maxEjectionPercent: 100,
        },
      }),
      [dead],
      async (port, proxy) => {
        const first = await call(port, '/')
        expect(first.status).toBe(503)
        expect(proxy.accessLog.recent.at(-1)?.response_flags).toBe('UF')
        const second = await call(port, '/')
        expect(second.status).toBe(503)
        expect(second.text).toBe('no healthy upstream')
        expect(proxy.accessLog.recent.at(-1)?.response_flags).toBe('UH')
      },
    )
  })
})
