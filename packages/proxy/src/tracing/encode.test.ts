import { describe, expect, it } from 'vitest'
import type { ConnContext } from '../listeners/conn.ts'
import { newRecord } from '../pipeline/state.ts'
import { encodeOtlp } from './otlp.ts'
import type { FinishedSpan, LocalNode } from './span.ts'
import { spanName } from './span.ts'
import { encodeZipkin } from './zipkin.ts'

const node: LocalNode = {
  serviceName: 'productpage.default',
  ip: '198.18.0.7',
  nodeId: 'sidecar~198.18.0.7~productpage-v1-1.default~default.svc.cluster.local',
  canonicalService: 'productpage',
  namespace: 'default',
}

function finished(over: Partial<FinishedSpan> = {}): FinishedSpan {
  const rec = newRecord({ direction: 'OUTBOUND', remoteAddress: '198.18.0.7' } as ConnContext, {
    method: 'GET',
    url: '/details/0?x=1',
    httpVersion: '1.1',
  })
  rec.authority = 'details:9080'
  rec.status = 503
  rec.flags = 'UF'
  rec.requestId = 'req-1'
  rec.upstreamCluster = 'outbound|9080||details.default.svc.cluster.local'
  rec.upstreamHost = '198.18.0.9:9080'
  return {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    parentId: 'aaaaaaaaaaaaaaaa',
    kind: 'CLIENT',
    debug: false,
    rec,
    startUs: 1_764_000_000_123_456,
    durationUs: 1500,
    peerPrincipal: undefined,
    ...over,
  }
}

describe('span names', () => {
  it("are Istio's decorator: <service host>:<port>/*", () => {
    expect(spanName(finished().rec)).toBe('details.default.svc.cluster.local:9080/*')
    const rec = finished().rec
    rec.upstreamCluster = 'inbound|9080||'
    rec.destinationService = 'details.default.svc.cluster.local'
    expect(spanName(rec)).toBe('details.default.svc.cluster.local:9080/*')
    rec.upstreamCluster = undefined
    rec.destinationService = undefined
    expect(spanName(rec)).toBe('details:9080/details/0')
  })
})

describe('Zipkin v2 JSON', () => {
  it('has the ids, kind, times in µs, endpoints and Envoy tags', () => {
    const [z] = JSON.parse(encodeZipkin([finished()], node))
    expect(z).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      id: '00f067aa0ba902b7',
      parentId: 'aaaaaaaaaaaaaaaa',
      kind: 'CLIENT',
      name: 'details.default.svc.cluster.local:9080/*',
      timestamp: 1_764_000_000_123_456,
      duration: 1500,
      localEndpoint: { serviceName: 'productpage.default', ipv4: '198.18.0.7' },
      remoteEndpoint: { serviceName: 'details.default', ipv4: '198.18.0.9', port: 9080 },
      tags: expect.objectContaining({
        'http.method': 'GET',
        'http.url': 'http://details:9080/details/0?x=1',
        'http.status_code': '503',
        response_flags: 'UF',
        upstream_cluster: 'outbound|9080||details.default.svc.cluster.local',
        node_id: node.nodeId,
        'guid:x-request-id': 'req-1',
        error: 'true',
      }),
    })
  })

  it('leaves parentId out of a root span and tags the mTLS peer of a server span', () => {
    const [z] = JSON.parse(
      encodeZipkin(
        [
          finished({
            parentId: undefined,
            kind: 'SERVER',
            peerPrincipal: 'cluster.local/ns/default/sa/bookinfo-productpage',
          }),
        ],
        node,
      ),
    )
    expect(z.parentId).toBeUndefined()
    expect(z.kind).toBe('SERVER')
    expect(z.tags['peer.principal']).toBe('cluster.local/ns/default/sa/bookinfo-productpage')
    expect(z.remoteEndpoint).toEqual({ ipv4: '198.18.0.7' })
    const client = finished()
    client.rec.upstreamPeerPrincipal = 'cluster.local/ns/default/sa/bookinfo-details'
    expect(JSON.parse(encodeZipkin([client], node))[0].tags['peer.principal']).toBe(
      'cluster.local/ns/default/sa/bookinfo-details',
    )
    const rec = finished().rec
    rec.source = { workload: 'productpage-v1', namespace: 'default', labels: { app: 'productpage' } }
    const [z2] = JSON.parse(encodeZipkin([finished({ kind: 'SERVER', rec })], node))
    expect(z2.remoteEndpoint.serviceName).toBe('productpage.default')
  })
})

describe('OTLP/HTTP JSON', () => {
  it('is an ExportTraceServiceRequest with hex ids, numeric kinds and nanoseconds as strings', () => {
    const body = JSON.parse(
      encodeOtlp([finished(), finished({ kind: 'SERVER', spanId: 'bbbbbbbbbbbbbbbb' })], node),
    )
    const rs = body.resourceSpans[0]
    expect(rs.resource.attributes).toContainEqual({
      key: 'service.name',
      value: { stringValue: 'productpage.default' },
    })
    const [client, server] = rs.scopeSpans[0].spans
    expect(client).toMatchObject({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      parentSpanId: 'aaaaaaaaaaaaaaaa',
      name: 'details.default.svc.cluster.local:9080/*',
      kind: 3,
      startTimeUnixNano: '1764000000123456000',
      endTimeUnixNano: '1764000000124956000',
      status: { code: 2 },
    })
    expect(client.attributes).toContainEqual({ key: 'http.status_code', value: { stringValue: '503' } })
    expect(server.kind).toBe(2)
  })
})
