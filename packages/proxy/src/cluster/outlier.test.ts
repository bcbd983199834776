import { describe, expect, it } from 'vitest'
import { Host } from './host.ts'
import { OutlierDetector } from './outlier.ts'

const settings = {
  connectTimeoutMs: 1000,
  idleTimeoutMs: 1000,
  maxConnections: undefined,
  maxRequestsPerConnection: undefined,
  http2: false,
  onConnect() {},
  onDisconnect() {},
  onConnectFail() {},
}

function hosts(n: number): Host[] {
  return Array.from(
    { length: n },
    (_, i) => new Host({ address: '127.0.0.1', port: 1000 + i, health: 'HEALTHY' }, settings),
  )
}

describe('OutlierDetector', () => {
  it('ejects after consecutive 5xx for base × count, returns on the sweep, caps at maxEjectionPercent', () => {
    let now = 0
    const hs = hosts(4)
    let changes = 0
    const d = new OutlierDetector(
      { consecutive5xx: 3, intervalMs: 0, baseEjectionTimeMs: 1000, maxEjectionPercent: 50 },
      () => hs,
      { changed: () => changes++, ejected: () => {} },
      () => now,
    )
    const [a, b, c] = hs as [Host, Host, Host]
    d.record(a, 500)
    d.record(a, 200) // a success resets the run
    d.record(a, 500)
    d.record(a, 503)
    expect(a.ejected).toBe(false)
    d.record(a, 'local-failure')
    expect(a.ejected).toBe(true)
    expect(changes).toBe(1)
    for (let i = 0; i < 3; i++) d.record(b, 500)
    expect(b.ejected).toBe(true)
    for (let i = 0; i < 3; i++) d.record(c, 500)
    expect(c.ejected).toBe(false) // 2 of 4 out already: 50% cap
    now = 999
    d.sweep()
    expect(a.ejected).toBe(true)
    now = 1000
    d.sweep()
    expect(a.ejected).toBe(false)
    // Second ejection lasts twice as long.
    for (let i = 0; i < 3; i++) d.record(a, 500)
    expect(a.ejected).toBe(true)
    expect(a.ejectionCount).toBe(2)
    expect(a.ejectedUntil).toBe(1000 + 2000)
    d.close()
  })

  it('counts gateway errors separately', () => {
    const hs = hosts(2)
    const d = new OutlierDetector(
      { consecutiveGatewayErrors: 2, intervalMs: 0, baseEjectionTimeMs: 1000, maxEjectionPercent: 100 },
      () => hs,
      { changed: () => {}, ejected: () => {} },
    )
    d.record(hs[0]!, 500)
    d.record(hs[0]!, 500)
    expect(hs[0]!.ejected).toBe(false)
    d.record(hs[0]!, 502)
    d.record(hs[0]!, 504)
    expect(hs[0]!.ejected).toBe(true)
    d.close()
  })
})
