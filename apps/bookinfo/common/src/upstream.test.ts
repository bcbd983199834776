import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closedPort } from './testing.ts'
import { createUpstreamAgent, fetchJson } from './upstream.ts'

// A plain node:http server playing a peer with every kind of answer.
let server: Server
let base: string
const agent = createUpstreamAgent()
const seenHeaders: Record<string, string | string[] | undefined>[] = []

beforeAll(async () => {
  server = createServer((req, res) => {
    seenHeaders.push(req.headers)
    if (req.url === '/ok') return res.writeHead(200, { 'content-type': 'application/json' }).end('{"a":1}')
    if (req.url === '/unavailable') return res.writeHead(503).end('{"error":"down"}')
    if (req.url === '/html') return res.writeHead(200, { 'content-type': 'text/html' }).end('<p>hi</p>')
    if (req.url === '/slow') {
      setTimeout(() => res.writeHead(200).end('{}'), 1_000).unref()
      return
    }
    res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  await agent.close()
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

describe('fetchJson', () => {
  it('returns the JSON of a 200 and sends the given headers', async () => {
    const result = await fetchJson(`${base}/ok`, {
      dispatcher: agent,
      timeoutMs: 1000,
      headers: { 'end-user': 'jason' },
    })
    expect(result).toMatchObject({ ok: true, status: 200, body: { a: 1 } })
    expect(seenHeaders.at(-1)).toMatchObject({ 'end-user': 'jason', accept: 'application/json' })
  })

  it("passes on a peer's error status and body", async () => {
    const result = await fetchJson(`${base}/unavailable`, { dispatcher: agent, timeoutMs: 1000 })
    expect(result).toMatchObject({ ok: false, status: 503, body: { error: 'down' }, error: 'status 503' })
  })

  it('treats a 200 that is not JSON as a 502', async () => {
    const result = await fetchJson(`${base}/html`, { dispatcher: agent, timeoutMs: 1000 })
    expect(result).toMatchObject({ ok: false, status: 502, error: 'response is not JSON' })
  })

  it('gives up with 504 at the timeout', async () => {
    const t0 = performance.now()
    const result = await fetchJson(`${base}/slow`, { dispatcher: agent, timeoutMs: 150 })
    expect(result).toMatchObject({ ok: false, status: 504, error: 'no answer within 150 ms' })
    expect(performance.now() - t0).toBeLessThan(900)
  })

  it('says 502 and why when nothing listens', async () => {
    const result = await fetchJson(`http://127.0.0.1:${await closedPort()}/ok`, {
      dispatcher: agent,
      timeoutMs: 1000,
    })
    expect(result.ok).toBe(false)
    expect(result.status).toBe(502)
    expect(result.error).toMatch(/ECONNREFUSED/)
  })
})
