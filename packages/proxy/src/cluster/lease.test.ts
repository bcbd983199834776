// The cluster lease: one slot per request, upgrade or TCP connection; a wait among the pending
// ones when the pool is full; overflow beyond that. Bookkeeping on a real ClusterRuntime, then
// the TCP proxy over real sockets (a third connection past maxConnections 1 + 1 pending is closed, UO).
import net from 'node:net'
import type { Cluster } from '@minimesh/api'
import { describe, expect, it } from 'vitest'
import { startTestProxy } from '../testdata/harness.ts'
import { DB_IP, sidecarConfig } from '../testdata/sidecar.ts'
import { ClusterRuntime } from './cluster.ts'
import { Lease } from './lease.ts'

function runtime(maxConnections: number, maxPendingRequests: number): ClusterRuntime {
  const config: Cluster = {
    name: 'c',
    type: 'STATIC',
    protocol: 'http',
    lbPolicy: 'ROUND_ROBIN',
    connectTimeoutMs: 1000,
    circuitBreakers: { maxConnections, maxPendingRequests },
    loadAssignment: { clusterName: 'c', endpoints: [{ address: '127.0.0.1', port: 9, health: 'HEALTHY' }] },
  }
  return new ClusterRuntime(config)
}

describe('Lease', () => {
  it('holds a slot and the host count until released, once, with the outcome recorded', () => {
    const c = runtime(1, 0)
    const host = c.choose(undefined)!
    const lease = Lease.acquire(c, host, { granted: () => expect.unreachable() })
    expect(lease).toBeInstanceOf(Lease)
    expect(host.active).toBe(1)
    expect(c.breaker.active).toBe(1)
    ;(lease as Lease).release(503)
    ;(lease as Lease).release(503)
    expect(host.active).toBe(0)
    expect(c.breaker.active).toBe(0)
    expect(host.requests).toBe(1)
    expect(host.errors).toBe(1)
  })

  it('waits when the pool is full, is granted on release, overflows past maxPending (counted)', () => {
    const c = runtime(1, 1)
    const host = c.choose(undefined)!
    const first = Lease.acquire(c, host, { granted: () => expect.unreachable() }) as Lease
    const granted: Lease[] = []
    const ticket = Lease.acquire(c, host, { granted: (l) => granted.push(l) })
    expect(ticket).toBeDefined()
    expect(ticket).not.toBeInstanceOf(Lease)
    expect(Lease.acquire(c, host, { granted: () => expect.unreachable() })).toBeUndefined()
    expect(c.stats.upstream_rq_pending_overflow).toBe(1)
    first.release()
    expect(granted).toHaveLength(1)
    expect(host.active).toBe(1)
    granted[0]!.release()
    expect(c.breaker.active).toBe(0)
  })

  it('gives a cancelled wait up, and tryTake never waits nor counts overflow', () => {
    const c = runtime(1, 5)
    const host = c.choose(undefined)!
    const first = Lease.tryTake(c, host)!
    expect(Lease.tryTake(c, host)).toBeUndefined()
    const ticket = Lease.acquire(c, host, { granted: () => expect.unreachable() })
    if (!ticket || ticket instanceof Lease) throw new Error('expected a pending ticket')
    ticket.cancel()
    first.release()
    expect(c.breaker.active).toBe(0)
    expect(c.stats.upstream_rq_pending_overflow).toBe(0)
  })
})

/** A client that sends `send` once connected and keeps what it reads, until closed (3 s at most). */
function connectAndRead(port: number, send: string): { got: () => string; closed: Promise<void> } {
  let got = ''
  const s = net.connect(port, '127.0.0.1', () => s.write(send))
  s.on('data', (d: Buffer) => {
    got += d
  })
  s.on('error', () => {})
  const closed = new Promise<void>((r) => s.once('close', () => r()))
  setTimeout(() => s.destroy(), 3000).unref()
  return { got: () => got, closed }
}

describe('TCP proxy on the lease', () => {
  it('a connection past maxConnections waits its turn; past maxPending it is closed with UO', async () => {
    const sockets = new Set<net.Socket>()
    const echo = net.createServer((s) => {
      sockets.add(s)
      s.on('data', (d: Buffer) => s.write(`echo:${d}`))
      s.on('error', () => {})
    })
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r))
    const config = sidecarConfig({ reviews: [], db: (echo.address() as net.AddressInfo).port, app: 1 })
    const db = config.clusters!.find((c) => c.name.includes('|3306|'))!
    db.circuitBreakers = { maxConnections: 1, maxPendingRequests: 1 }
    const proxy = await startTestProxy(config, {
      originalDestination: () => ({ address: DB_IP, port: 3306 }),
    })
    const port = proxy.ports.listeners.virtualOutbound!
    const a = net.connect(port, '127.0.0.1', () => a.write('a'))
    let gotA = ''
    a.on('data', (d: Buffer) => {
      gotA += d
    })
    await expect.poll(() => gotA).toBe('echo:a')
    const b = connectAndRead(port, 'b')
    const c = connectAndRead(port, 'c')
    await c.closed
    expect(c.got()).toBe('')
    await new Promise((r) => setTimeout(r, 100))
    expect(b.got()).toBe('') // waiting for a's slot
    a.destroy()
    await expect.poll(() => b.got()).toBe('echo:b')
    const flags = proxy.accessLog.recent.map((e) => e.response_flags)
    expect(flags).toContain('UO')
    expect(proxy.store.clusterStats.get(db.name)?.upstream_rq_pending_overflow).toBe(1)
    await proxy.close()
    for (const s of sockets) s.destroy()
    echo.close()
  })
})
