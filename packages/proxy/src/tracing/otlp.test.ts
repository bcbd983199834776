// OTLP/HTTP export end to end against a real receiver: Bookinfo's call graph in miniature
// (testdata/traced-bookinfo.ts) with every proxy exporting OTLP/HTTP JSON to Jaeger v2
// (testdata/jaeger.ts, built from source by scripts/ensure-jaeger.sh), and each trace read back
// through Jaeger's own query API: the parent/child structure, span names and kinds, the resource
// (which proxy), Envoy's tags as attributes, nanosecond times, and the status of a failed call.
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestProxy } from '../testdata/harness.ts'
import { type JaegerServer, jaegerSkipReason, type ReceivedSpan, startJaeger } from '../testdata/jaeger.ts'
import { fqdn, gatewayConfig, startTracedBookinfo, type TracedBookinfo } from '../testdata/traced-bookinfo.ts'

const skip = jaegerSkipReason()
if (skip) console.warn(`OTLP export to a real Jaeger skipped: ${skip}`)

const GATEWAY = 'minimesh-ingressgateway.minimesh-system'
/** opentelemetry.proto.trace.v1 Span.SpanKind and Status.StatusCode, as numbers on the wire. */
const KIND: Record<number, string> = { 2: 'SERVER', 3: 'CLIENT' }
const STATUS_UNSET = 0
const STATUS_ERROR = 2
const svc = (n: string) => `${fqdn(n)}:9080/*`

describe.skipIf(skip !== undefined)('OTLP/HTTP export to a real Jaeger', () => {
  let jaeger: JaegerServer
  let mesh: TracedBookinfo

  beforeAll(async () => {
    jaeger = await startJaeger()
    const otlp = { collector: jaeger.otlpUrl, format: 'otlp' as const, flushIntervalMs: 100 }
    mesh = await startTracedBookinfo({
      sidecars: { ...otlp, sampling: 0 },
      gateway: { ...otlp, sampling: 100 },
    })
  }, 120_000)

  afterAll(async () => {
    await mesh?.close()
    await jaeger?.close()
  })

  it('a productpage request is one trace in Jaeger: gateway → productpage → details, reviews → ratings', async () => {
    const traceId = '6bf92f3577b34da6a3ce929d0e0e4736'
    await mesh.get({ traceparent: `00-${traceId}-00f067aa0ba902b7-01` })
    const spans = await jaeger.waitForTrace(traceId, 8)
    expect(spans).toHaveLength(8)
    const byId = new Map(spans.map((s) => [s.span.spanId, s]))
    const show = (s: ReceivedSpan) => `${s.resource['service.name']} ${KIND[s.span.kind]} ${s.span.name}`
    const tree = spans
      .map((s) => {
        const parentId = s.span.parentSpanId
        const parent = parentId ? byId.get(parentId) : undefined
        const from = parent
          ? show(parent)
          : parentId === '00f067aa0ba902b7'
            ? '(caller)'
            : `(missing ${parentId})`
        return `${from} -> ${show(s)}`
      })
      .sort()
    const server = 'SERVER'
    const client = 'CLIENT'
    expect(tree).toEqual(
      [
        `(caller) -> ${GATEWAY} ${client} ${svc('productpage')}`,
        `${GATEWAY} ${client} ${svc('productpage')} -> productpage.default ${server} ${svc('productpage')}`,
        `productpage.default ${server} ${svc('productpage')} -> productpage.default ${client} ${svc('details')}`,
        `productpage.default ${server} ${svc('productpage')} -> productpage.default ${client} ${svc('reviews')}`,
        `productpage.default ${client} ${svc('details')} -> details.default ${server} ${svc('details')}`,
        `productpage.default ${client} ${svc('reviews')} -> reviews.default ${server} ${svc('reviews')}`,
        `reviews.default ${server} ${svc('reviews')} -> reviews.default ${client} ${svc('ratings')}`,
        `reviews.default ${client} ${svc('ratings')} -> ratings.default ${server} ${svc('ratings')}`,
      ].sort(),
    )
    for (const s of spans) {
      // The resource: which proxy sent it.
      expect(s.resource['service.instance.id']).toMatch(/^(sidecar|router)~127\.0\.0\.1~/)
      expect(s.resource['k8s.namespace.name']).toMatch(/^(default|minimesh-system)$/)
      // Envoy's tags as string attributes.
      expect(s.attributes).toMatchObject({
        'http.method': 'GET',
        'http.status_code': '200',
        response_flags: '-',
      })
      expect(s.attributes.node_id).toBe(s.resource['service.instance.id'])
      expect(s.attributes.upstream_cluster).toMatch(
        /^(outbound\|9080\|\|[a-z]+\.default\.svc\.cluster\.local|inbound\|9080\|\|)$/,
      )
      // The request's own URL: the app called is the one the span is named after.
      const target = s.span.name.split('.')[0]
      expect(s.attributes['http.url']).toMatch(new RegExp(`^http://[a-z.]+(:9080)?/${target}$`))
      expect(s.span.status?.code ?? STATUS_UNSET).toBe(STATUS_UNSET)
      // Nanoseconds since the epoch, in this minute, end after start.
      const start = BigInt(s.span.startTimeUnixNano)
      const end = BigInt(s.span.endTimeUnixNano)
      expect(end > start).toBe(true)
      expect(Number(start / 1_000_000n)).toBeGreaterThan(Date.now() - 60_000)
      // A child starts within its parent (one machine's clock; µs precision).
      const parent = s.span.parentSpanId ? byId.get(s.span.parentSpanId) : undefined
      if (parent) expect(start >= BigInt(parent.span.startTimeUnixNano)).toBe(true)
    }
    // The other side's service on each hop (peer.service): client spans name the callee.
    const peers = spans
      .filter((s) => KIND[s.span.kind] === client)
      .map((s) => `${s.resource['service.name']}->${s.attributes['peer.service']}`)
      .sort()
    expect(peers).toEqual([
      `${GATEWAY}->productpage.default`,
      'productpage.default->details.default',
      'productpage.default->reviews.default',
      'reviews.default->ratings.default',
    ])
    // The caller's server spans name the calling app.
    const detailsServer = spans.find((s) => s.resource['service.name'] === 'details.default')
    expect(detailsServer?.attributes['peer.service']).toBe('productpage.default')
    expect(new Set(spans.map((s) => s.attributes['guid:x-request-id'])).size).toBe(1)
  })

  it('a trace the gateway starts (no caller) has its root at the gateway', async () => {
    const before = mesh.productpage.seen.length
    await mesh.get()
    const traceId = String(mesh.productpage.seen[before]?.traceparent).split('-')[1]!
    expect(traceId).toMatch(/^[0-9a-f]{32}$/)
    const spans = await jaeger.waitForTrace(traceId, 8)
    expect(spans).toHaveLength(8)
    const roots = spans.filter((s) => !s.span.parentSpanId)
    expect(roots.map((s) => `${s.resource['service.name']} ${KIND[s.span.kind]}`)).toEqual([
      `${GATEWAY} CLIENT`,
    ])
  })

  it('a failed call is an error span: status ERROR, the 503 and its response flag', async () => {
    // A gateway whose only upstream refuses connections (a port nothing listens on).
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as net.AddressInfo
        s.close(() => resolve(port))
      })
    })
    const gw = await startTestProxy(gatewayConfig(closed, 'details'), {
      mode: 'router',
      identity: {
        workload: 'failing-gateway',
        namespace: 'default',
        labels: {},
        pod: 'fgw-0',
        ip: '127.0.0.1',
      },
      tracing: { collector: jaeger.otlpUrl, format: 'otlp', sampling: 100, flushIntervalMs: 100 },
    })
    mesh.track(gw)
    const traceId = '7bf92f3577b34da6a3ce929d0e0e4736'
    const r = await fetch(`http://127.0.0.1:${gw.ports.listeners['0.0.0.0_8080']}/details/0`, {
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    })
    await r.text()
    expect(r.status).toBe(503)
    const [span, ...more] = await jaeger.waitForTrace(traceId, 1)
    expect(more).toEqual([])
    expect(span?.resource['service.name']).toBe('failing-gateway.default')
    expect(span?.span.status?.code).toBe(STATUS_ERROR)
    expect(span?.attributes).toMatchObject({ 'http.status_code': '503', error: 'true', response_flags: 'UF' })
  })
})
