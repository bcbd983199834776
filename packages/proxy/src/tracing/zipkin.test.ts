// Tracing end to end on real sockets: Bookinfo's call graph in miniature (testdata/traced-bookinfo.ts:
// a gateway, four sidecars with their apps, the apps forwarding trace headers as Bookinfo's do)
// exporting to a real Zipkin server (the io.zipkin:zipkin-server jar, scripts/ensure-zipkin.sh), read
// back from /api/v2/trace/{id}. Then sampling: the share of sampled traces is binomial(n, p) (exact test).
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestProxy } from '../testdata/harness.ts'
import { fqdn, gatewayConfig, startTracedBookinfo, type TracedBookinfo } from '../testdata/traced-bookinfo.ts'
import { startZipkin, type ZipkinServer, type ZipkinSpanJson, zipkinSkipReason } from '../testdata/zipkin.ts'

const skip = zipkinSkipReason()
if (skip) console.warn(`tracing with a real Zipkin skipped: ${skip}`)

describe.skipIf(skip !== undefined)('tracing to a real Zipkin', () => {
  let zipkin: ZipkinServer
  let mesh: TracedBookinfo

  beforeAll(async () => {
    zipkin = await startZipkin()
    // Every sidecar samples nothing of its own: only the gateway starts traces, and its decision travels.
    mesh = await startTracedBookinfo({
      sidecars: { collector: zipkin.spansUrl, sampling: 0, flushIntervalMs: 100 },
      gateway: { collector: zipkin.spansUrl, sampling: 100, flushIntervalMs: 100 },
    })
  }, 120_000)

  afterAll(async () => {
    await mesh?.close()
    await zipkin?.close()
  })

  const get = (headers?: Record<string, string>) => mesh.get(headers)

  it('a productpage request is one trace: gateway → productpage → details, reviews → ratings', async () => {
    await get()
    const tp = mesh.productpage.seen.at(-1)!.traceparent as string
    expect(tp).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
    const traceId = tp.split('-')[1]!
    const spans = await zipkin.waitForTrace(traceId, 8)
    expect(spans).toHaveLength(8)
    const byId = new Map(spans.map((s) => [s.id, s]))
    const roots = spans.filter((s) => s.parentId === undefined)
    expect(roots).toHaveLength(1)
    // Every parent is in the trace: describe each span by its service, kind and target, under its parent.
    const describeSpan = (s: ZipkinSpanJson) => `${s.localEndpoint?.serviceName} ${s.kind} ${s.name}`
    const tree = spans
      .map((s) => {
        const parent = s.parentId === undefined ? undefined : byId.get(s.parentId)
        if (s.parentId !== undefined) expect(parent, `parent of ${describeSpan(s)}`).toBeDefined()
        return `${parent ? describeSpan(parent) : '(root)'} -> ${describeSpan(s)}`
      })
      .sort()
    const svc = (n: string) => `${fqdn(n)}:9080/*`
    expect(tree).toEqual(
      [
        `(root) -> minimesh-ingressgateway.minimesh-system CLIENT ${svc('productpage')}`,
        `minimesh-ingressgateway.minimesh-system CLIENT ${svc('productpage')} -> productpage.default SERVER ${svc('productpage')}`,
        `productpage.default SERVER ${svc('productpage')} -> productpage.default CLIENT ${svc('details')}`,
        `productpage.default SERVER ${svc('productpage')} -> productpage.default CLIENT ${svc('reviews')}`,
        `productpage.default CLIENT ${svc('details')} -> details.default SERVER ${svc('details')}`,
        `productpage.default CLIENT ${svc('reviews')} -> reviews.default SERVER ${svc('reviews')}`,
        `reviews.default SERVER ${svc('reviews')} -> reviews.default CLIENT ${svc('ratings')}`,
        `reviews.default CLIENT ${svc('ratings')} -> ratings.default SERVER ${svc('ratings')}`,
      ].sort(),
    )
    // Envoy's tags, on every span.
    for (const s of spans) {
      expect(s.tags).toMatchObject({ 'http.method': 'GET', 'http.status_code': '200', response_flags: '-' })
      expect(s.tags?.node_id).toMatch(/^(sidecar|router)~127\.0\.0\.1~/)
      expect(s.tags?.upstream_cluster).toMatch(
        /^(outbound\|9080\|\|[a-z]+\.default\.svc\.cluster\.local|inbound\|9080\|\|)$/,
      )
      expect(s.tags?.['http.url']).toMatch(/^http:\/\//)
      expect(s.duration).toBeGreaterThan(0)
    }
    // A child starts within its parent (clocks are one machine's).
    for (const s of spans) {
      const p = s.parentId ? byId.get(s.parentId) : undefined
      if (p) expect(s.timestamp!).toBeGreaterThanOrEqual(p.timestamp! - 1000)
    }
    // Each hop names the other side's service (the dashboard's trace links search by it).
    const r = await fetch(`${zipkin.url}/api/v2/remoteServices?serviceName=productpage.default`)
    expect(((await r.json()) as string[]).sort()).toEqual([
      'details.default',
      'minimesh-ingressgateway.minimesh-system',
      'reviews.default',
    ])
    // One x-request-id all the way.
    expect(new Set(spans.map((s) => s.tags?.['guid:x-request-id'])).size).toBe(1)
  })

  it("joins the caller's trace: W3C traceparent in, the gateway's span is its child", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    await get({ traceparent: `00-${traceId}-00f067aa0ba902b7-01`, tracestate: 'vendor=x' })
    const spans = await zipkin.waitForTrace(traceId, 8)
    expect(spans).toHaveLength(8)
    const gw = spans.find((s) => s.localEndpoint?.serviceName === 'minimesh-ingressgateway.minimesh-system')
    expect(gw?.parentId).toBe('00f067aa0ba902b7')
    expect(mesh.productpage.seen.at(-1)!.tracestate).toBe('vendor=x')
    // The app's parent is its sidecar's server span, whose parent is the gateway's span.
    const ppServer = spans.find(
      (s) => s.localEndpoint?.serviceName === 'productpage.default' && s.kind === 'SERVER',
    )
    expect(mesh.productpage.seen.at(-1)!.traceparent).toBe(`00-${traceId}-${ppServer?.id}-01`)
    expect(ppServer?.parentId).toBe(gw?.id)
  })

  it('joins a B3 caller (64-bit trace id) and answers in B3 too', async () => {
    await get({ 'x-b3-traceid': 'a3ce929d0e0e4736', 'x-b3-spanid': '00f067aa0ba902b8', 'x-b3-sampled': '1' })
    const seen = mesh.productpage.seen.at(-1)!
    expect(seen['x-b3-traceid']).toBe('0000000000000000a3ce929d0e0e4736')
    expect(seen['x-b3-sampled']).toBe('1')
    const spans = await zipkin.waitForTrace('0000000000000000a3ce929d0e0e4736', 8)
    expect(spans).toHaveLength(8)
    // The productpage sidecar's server span is what the app saw as its parent.
    const ppServer = spans.find(
      (s) => s.localEndpoint?.serviceName === 'productpage.default' && s.kind === 'SERVER',
    )
    expect(seen['x-b3-spanid']).toBe(ppServer?.id)
  })

  it("keeps the caller's no: an unsampled request sends no span, and says so downstream", async () => {
    const traceId = '5bf92f3577b34da6a3ce929d0e0e4736'
    await get({ traceparent: `00-${traceId}-00f067aa0ba902b7-00` })
    expect(mesh.productpage.seen.at(-1)!.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`))
    expect(mesh.productpage.seen.at(-1)!['x-b3-sampled']).toBe('0')
    // Give the exporters time to have sent anything they would have.
    await new Promise((r) => setTimeout(r, 1000))
    expect(await zipkin.trace(traceId)).toEqual([])
  })

  it('counts what it sent at /stats/prometheus', async () => {
    const r = await request(`http://127.0.0.1:${mesh.gateway.ports.stats}/stats/prometheus`)
    const text = await r.body.text()
    const sent = Number(/^minimesh_tracing_spans_sent_total (\d+)$/m.exec(text)?.[1])
    expect(sent).toBeGreaterThanOrEqual(3)
    expect(text).toContain('minimesh_tracing_spans_dropped_total{reason="queue_full"} 0')
  })

  it('samples the traces it starts at its percentage (exact binomial test, α = 0.001)', async () => {
    const percent = 25
    const n = 400
    const gw = await startTestProxy(gatewayConfig(mesh.detailsIn, 'details'), {
      mode: 'router',
      identity: {
        workload: 'sampling-gateway',
        namespace: 'default',
        labels: {},
        pod: 'sgw-0',
        ip: '127.0.0.1',
      },
      tracing: { collector: zipkin.spansUrl, sampling: percent, flushIntervalMs: 100 },
    })
    mesh.track(gw)
    const port = gw.ports.listeners['0.0.0.0_8080']!
    const from = mesh.details.seen.length
    for (let i = 0; i < n; i += 20)
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          const r = await request(`http://127.0.0.1:${port}/details/0`, {
            headers: { host: 'bookinfo.example' },
          })
          await r.body.text()
          expect(r.statusCode).toBe(200)
        }),
      )
    const seen = mesh.details.seen.slice(from)
    expect(seen).toHaveLength(n)
    const sampled = seen.filter((h) => String(h.traceparent).endsWith('-01'))
    const k = sampled.length
    // Every request carries a decision, sampled or not.
    expect(seen.every((h) => /-0[01]$/.test(String(h.traceparent)))).toBe(true)
    const { binomialTestPValue } = (await import(
      new URL('../../../../e2e/src/binomial.ts', import.meta.url).href
    )) as { binomialTestPValue: (k: number, n: number, p: number) => number }
    const pValue = binomialTestPValue(k, n, percent / 100)
    expect(pValue, `${k} of ${n} sampled at ${percent}%`).toBeGreaterThan(0.001)
    // And exactly the sampled ones reached Zipkin: the gateway's spans there are its sampled traces.
    await gw.ctx.tracer!.exporter.flush()
    const r = await fetch(
      `${zipkin.url}/api/v2/traces?serviceName=sampling-gateway.default&limit=10000&lookback=3600000`,
    )
    const traces = (await r.json()) as ZipkinSpanJson[][]
    const ids = new Set(traces.map((t) => t[0]!.traceId))
    expect(ids).toEqual(new Set(sampled.map((h) => String(h.traceparent).split('-')[1])))
  }, 60_000)
})
