// The sidecar's part in the pod's lifecycle: `mesh-proxy wait` (a classic sidecar's postStart
// hook holds the app until the proxy is ready), the sidecar drain (the app's outbound calls keep
// being served until the app is done; inbound served for the minimum drain time, then refused; not
// ready), and POST /quitquitquit.
import { spawn } from 'node:child_process'
import net from 'node:net'
import { networkInterfaces } from 'node:os'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import type { RunningProxy } from './proxy.ts'
import { startTestProxy } from './testdata/harness.ts'
import { REVIEWS_IP, sidecarConfig } from './testdata/sidecar.ts'

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url))
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function runWait(args: string[]): Promise<{ code: number | null; stderr: string; ms: number }> {
  const started = Date.now()
  const child = spawn(process.execPath, ['--conditions=@minimesh/source', MAIN, 'wait', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => {
    stderr += d
  })
  return new Promise((r) => child.on('exit', (code) => r({ code, stderr, ms: Date.now() - started })))
}

/** Opens a TCP connection; resolves with the socket once connected, or 'refused' if it is closed at once. */
function open(port: number): Promise<net.Socket | 'refused'> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1')
    s.once('error', () => resolve('refused'))
    s.once('close', () => resolve('refused'))
    s.once('connect', () => setTimeout(() => resolve(s.destroyed ? 'refused' : s), 150))
  })
}

const config = () => sidecarConfig({ reviews: [], db: 1, app: 1 })
/** Captured connections look as if they were for reviews:9080 (an HTTP listener that waits for a request). */
const toReviews = { originalDestination: () => ({ address: REVIEWS_IP, port: 9080 }) }

describe('sidecar lifecycle', () => {
  const proxies: RunningProxy[] = []
  afterEach(async () => {
    await Promise.all(proxies.splice(0).map((p) => p.close()))
  })

  it('mesh-proxy wait: exits 0 once /healthz/ready is 200, 1 with the reason after its timeout', async () => {
    const p = await startTestProxy(undefined, { healthPort: 0 })
    proxies.push(p)
    // No configuration yet: not ready, so wait times out and says why.
    const notReady = await runWait(['--health-port', String(p.ports.health), '--timeout', '1'])
    expect(notReady.code).toBe(1)
    expect(notReady.stderr).toContain('503 waiting for configuration')
    const waiting = runWait(['--health-port', String(p.ports.health), '--timeout', '20'])
    await sleep(300)
    await p.reload(config())
    const ready = await waiting
    expect(ready.code).toBe(0)
  })

  it('drain (sidecar): not ready, inbound served for the minimum then refused, the app keeps calling out until its connections close', async () => {
    const p = await startTestProxy(config(), toReviews)
    proxies.push(p)
    const outbound = p.ports.listeners.virtualOutbound!
    const inbound = p.ports.listeners.virtualInbound!
    const held = await open(outbound)
    expect(held).not.toBe('refused')
    let drained = false
    const draining = p.drain(Number.POSITIVE_INFINITY, { minMs: 500 }).then(() => {
      drained = true
    })
    await sleep(50)
    expect((await fetch(`http://127.0.0.1:${p.ports.health}/healthz/ready`)).status).toBe(503)
    // Within the minimum: callers that do not know yet that the pod is going still get in (the
    // app may be serving through its preStop hook).
    const early = await open(inbound)
    expect(early).not.toBe('refused')
    ;(early as net.Socket).destroy()
    await sleep(600)
    expect(await open(inbound)).toBe('refused')
    // The app, still at work, opens a new connection: served.
    const late = await open(outbound)
    expect(late).not.toBe('refused')
    await sleep(200)
    expect(drained).toBe(false)
    ;(held as net.Socket).destroy()
    ;(late as net.Socket).destroy()
    const t = Date.now()
    await draining
    expect(Date.now() - t).toBeLessThan(1000)
  })

  it('drain (sidecar) without a minimum (a native sidecar, stopped after the app): inbound refused at once', async () => {
    const p = await startTestProxy(config(), toReviews)
    proxies.push(p)
    const held = await open(p.ports.listeners.virtualOutbound!)
    expect(held).not.toBe('refused')
    const draining = p.drain(Number.POSITIVE_INFINITY, { minMs: 0 })
    await sleep(20)
    expect(await open(p.ports.listeners.virtualInbound!)).toBe('refused')
    ;(held as net.Socket).destroy()
    await draining
  })

  it('drain (sidecar) with a deadline: ends at the deadline although the app still holds a connection', async () => {
    const p = await startTestProxy(config(), toReviews)
    proxies.push(p)
    const held = await open(p.ports.listeners.virtualOutbound!)
    const t = Date.now()
    await p.drain(300, { minMs: 0 })
    expect(Date.now() - t).toBeGreaterThanOrEqual(290)
    if (held !== 'refused') held.destroy()
  })

  it('POST /quitquitquit on the admin port and on 15020 from loopback; GET and other addresses refused', async () => {
    let quits = 0
    const p = await startTestProxy(config(), { onQuit: () => quits++ })
    proxies.push(p)
    expect((await fetch(`http://127.0.0.1:${p.ports.admin}/quitquitquit`)).status).toBe(405)
    const r = await fetch(`http://127.0.0.1:${p.ports.admin}/quitquitquit`, { method: 'POST' })
    expect(r.status).toBe(200)
    expect((await fetch(`http://127.0.0.1:${p.ports.stats}/quitquitquit`, { method: 'POST' })).status).toBe(
      200,
    )
    const other = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address
    if (other) {
      const res = await fetch(`http://${other}:${p.ports.stats}/quitquitquit`, { method: 'POST' })
      expect(res.status).toBe(403)
    }
    await sleep(20)
    expect(quits).toBe(2)
  })

  it('without onQuit there is no /quitquitquit', async () => {
    const p = await startTestProxy(config())
    proxies.push(p)
    expect((await fetch(`http://127.0.0.1:${p.ports.admin}/quitquitquit`, { method: 'POST' })).status).toBe(
      404,
    )
  })
})
