import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { closeWhenIdle } from './manager.ts'

const IDLE_MS = 150
const servers: http2.Http2Server[] = []

afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r))
})

/** An h2c server whose sessions close when idle; `/slow` answers after `slowMs`. */
async function start(slowMs: number): Promise<number> {
  const server = http2.createServer((req, res) => {
    if (req.url === '/slow') setTimeout(() => res.end('late'), slowMs)
    else res.end('now')
  })
  server.on('session', (s) => closeWhenIdle(s, IDLE_MS))
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return (server.address() as AddressInfo).port
}

function closedAt(session: http2.ClientHttp2Session): Promise<number> {
  return new Promise((r) => session.once('close', () => r(performance.now())))
}

function get(session: http2.ClientHttp2Session, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': path })
    let body = ''
    req.on('data', (c: Buffer) => {
      body += c
    })
    req.on('end', () => resolve(body))
    req.on('error', reject)
  })
}

describe('HTTP/2 idle connections', () => {
  it('closes a connection that never opens a stream', async () => {
    const port = await start(0)
    const t0 = performance.now()
    const session = http2.connect(`http://127.0.0.1:${port}`)
    const at = await closedAt(session)
    expect(at - t0).toBeGreaterThanOrEqual(IDLE_MS - 5)
    expect(at - t0).toBeLessThan(IDLE_MS + 2000)
  })

  it('keeps a connection while a stream is open longer than the idle time, then closes it', async () => {
    const port = await start(IDLE_MS * 3)
    const session = http2.connect(`http://127.0.0.1:${port}`)
    const closed = closedAt(session)
    expect(await get(session, '/fast')).toBe('now')
    const t0 = performance.now()
    // Open for 3× the idle time: the connection must survive it.
    expect(await get(session, '/slow')).toBe('late')
    const answered = performance.now()
    expect(answered - t0).toBeGreaterThanOrEqual(IDLE_MS * 3 - 5)
    const at = await closed
    expect(at - answered).toBeGreaterThanOrEqual(IDLE_MS - 20)
  })
})
