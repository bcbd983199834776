// The exporter against real HTTP collectors on port 0: batching, a bounded queue whose drops are
// counted, failed exports counted, and a slow collector that never slows add().
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import type { ConnContext } from '../listeners/conn.ts'
import { newRecord } from '../pipeline/state.ts'
import { SpanExporter } from './exporter.ts'
import type { FinishedSpan } from './span.ts'

const node = {
  serviceName: 'a.default',
  ip: '127.0.0.1',
  nodeId: 'n',
  canonicalService: 'a',
  namespace: 'default',
}
const log = pino({ level: 'silent' })

function span(i: number): FinishedSpan {
  const rec = newRecord({ direction: 'OUTBOUND', remoteAddress: '127.0.0.1' } as ConnContext, {
    method: 'GET',
    url: `/${i}`,
    httpVersion: '1.1',
  })
  return {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: i.toString(16).padStart(16, '0'),
    parentId: undefined,
    kind: 'CLIENT',
    debug: false,
    rec,
    startUs: Date.now() * 1000,
    durationUs: 10,
    peerPrincipal: undefined,
  }
}

const servers: http.Server[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections()
    await new Promise((r) => s.close(r))
  }
})

async function collector(
  handler: (body: string, res: http.ServerResponse) => void,
): Promise<{ url: string; bodies: string[] }> {
  const bodies: string[] = []
  const server = http.createServer((req, res) => {
    let b = ''
    req.on('data', (c) => {
      b += c
    })
    req.on('end', () => {
      bodies.push(b)
      handler(b, res)
    })
  })
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v2/spans`, bodies }
}

describe('SpanExporter', () => {
  it('sends full batches at once and the rest on flush, every span once', async () => {
    const c = await collector((_b, res) => res.writeHead(202).end())
    const e = new SpanExporter({
      url: c.url,
      format: 'zipkin',
      node,
      log,
      batchSize: 10,
      flushIntervalMs: 60_000,
    })
    for (let i = 1; i <= 25; i++) e.add(span(i))
    await e.flush()
    const ids = c.bodies.flatMap((b) => (JSON.parse(b) as { id: string }[]).map((s) => s.id))
    expect(ids).toHaveLength(25)
    expect(new Set(ids).size).toBe(25)
    expect(Math.max(...c.bodies.map((b) => JSON.parse(b).length))).toBe(10)
    expect(e.stats).toMatchObject({ sent: 25, droppedQueueFull: 0, droppedExportFailed: 0 })
    await e.close()
  })

  it('drops beyond the queue bound and counts it, without waiting on a collector that hangs', async () => {
    const c = await collector(() => {
      // never answers
    })
    const e = new SpanExporter({
      url: c.url,
      format: 'zipkin',
      node,
      log,
      maxQueue: 50,
      batchSize: 10,
      flushIntervalMs: 60_000,
      timeoutMs: 300,
    })
    const t0 = performance.now()
    for (let i = 1; i <= 200; i++) e.add(span(i))
    expect(performance.now() - t0).toBeLessThan(50)
    expect(e.stats.droppedQueueFull).toBe(150)
    await e.flush()
    // Every batch timed out: dropped and counted, nothing held.
    expect(e.stats.droppedExportFailed).toBe(50)
    expect(e.stats.reportsFailed).toBe(5)
    expect(e.metrics()).toContain('minimesh_tracing_spans_dropped_total{reason="queue_full"} 150')
    expect(e.metrics()).toContain('minimesh_tracing_spans_dropped_total{reason="export_failed"} 50')
    await e.close()
  })

  it('counts a refused batch (HTTP 400) and goes on with the next', async () => {
    let n = 0
    const c = await collector((_b, res) => res.writeHead(n++ === 0 ? 400 : 202).end())
    const e = new SpanExporter({
      url: c.url,
      format: 'otlp',
      node,
      log,
      batchSize: 5,
      flushIntervalMs: 60_000,
    })
    for (let i = 1; i <= 10; i++) e.add(span(i))
    await e.flush()
    expect(e.stats).toMatchObject({ sent: 5, droppedExportFailed: 5, reportsSent: 1, reportsFailed: 1 })
    expect(JSON.parse(c.bodies[0]!).resourceSpans[0].scopeSpans[0].spans).toHaveLength(5)
    await e.close()
  })

  it('sends on its timer without a flush call', async () => {
    const c = await collector((_b, res) => res.writeHead(202).end())
    const e = new SpanExporter({ url: c.url, format: 'zipkin', node, log, flushIntervalMs: 50 })
    e.add(span(1))
    const end = Date.now() + 3000
    while (e.stats.sent === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
    expect(e.stats.sent).toBe(1)
    await e.close()
  })
})
