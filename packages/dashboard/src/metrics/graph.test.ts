import { describe, expect, it } from 'vitest'
import { type BucketRate, buildGraph, type RequestRate } from './graph.ts'
import { histogramQuantile } from './histogram.ts'
import { parsePrometheusText } from './parse.ts'
import { ratesBetween } from './rates.ts'

const L = (reporter: string, sw: string, dw: string, code = '200', extra: Record<string, string> = {}) => ({
  reporter,
  source_workload: sw,
  source_version: sw.split('-').at(-1) ?? 'unknown',
  destination_service: `${dw.split('-')[0]}.default.svc.cluster.local`,
  destination_workload: dw,
  destination_version: dw.split('-').at(-1) ?? 'unknown',
  response_code: code,
  response_flags: '-',
  ...extra,
})

describe('buildGraph', () => {
  it('shows a 90/10 split as two edges with their rates, the client side reported where it has a sidecar', () => {
    const requests: RequestRate[] = [
      { labels: L('source', 'productpage-v1', 'reviews-v1'), rate: 9 },
      { labels: L('source', 'productpage-v1', 'reviews-v2'), rate: 1 },
      // The servers' reports of the same requests are not counted twice.
      { labels: L('destination', 'productpage-v1', 'reviews-v1'), rate: 9 },
      { labels: L('destination', 'productpage-v1', 'reviews-v2'), rate: 1 },
      // A client without a sidecar is only seen by the server.
      { labels: L('destination', 'unknown', 'productpage-v1'), rate: 10 },
    ]
    const g = buildGraph(requests, [])
    expect(g.edges.map((e) => [e.source, e.destination, e.rps, e.reporter])).toEqual([
      ['productpage-v1', 'reviews-v1', 9, 'source'],
      ['productpage-v1', 'reviews-v2', 1, 'source'],
      ['unknown', 'productpage-v1', 10, 'destination'],
    ])
    expect(g.nodes.map((n) => `${n.id}:${n.version}:${n.namespace}:${n.kind}`)).toEqual([
      'productpage-v1:v1:default:workload',
      'reviews-v1:v1:default:workload',
      'reviews-v2:v2:default:workload',
      'unknown:unknown::unknown',
    ])
    expect(g.workloads['reviews-v1']).toMatchObject({ rps: 9, successRate: 1, direction: 'inbound' })
    expect(g.workloads['productpage-v1']).toMatchObject({ rps: 10, direction: 'inbound' })
  })

  it('counts 5xx and resets as failures, mTLS by connection_security_policy, p99 from the buckets', () => {
    const requests: RequestRate[] = [
      {
        labels: L('source', 'reviews-v2', 'ratings-v1', '200', { connection_security_policy: 'mutual_tls' }),
        rate: 3,
      },
      {
        labels: L('source', 'reviews-v2', 'ratings-v1', '503', { connection_security_policy: 'mutual_tls' }),
        rate: 1,
      },
      { labels: L('source', 'reviews-v2', 'details-v1', '0'), rate: 2 },
    ]
    const base = L('source', 'reviews-v2', 'ratings-v1')
    const { response_code: _c, response_flags: _f, ...bl } = base
    const buckets: BucketRate[] = [
      { labels: bl, le: 10, rate: 2 },
      { labels: bl, le: 100, rate: 4 },
      { labels: bl, le: Number.POSITIVE_INFINITY, rate: 4 },
    ]
    const g = buildGraph(requests, buckets)
    const ratings = g.edges.find((e) => e.destination === 'ratings-v1')!
    expect(ratings.successRate).toBe(0.75)
    expect(ratings.mtls).toBe(1)
    // rank 0.99*4 = 3.96 in (10, 100]: 10 + 90 * (3.96-2)/2
    expect(ratings.p99Ms).toBeCloseTo(98.2, 5)
    const details = g.edges.find((e) => e.destination === 'details-v1')!
    expect(details.successRate).toBe(0)
    expect(details.mtls).toBe(0)
    expect(details.p99Ms).toBeUndefined()
  })

  it('a request no workload answered (503 NR) goes to the service node', () => {
    const g = buildGraph(
      [
        {
          labels: {
            ...L('source', 'productpage-v1', 'x'),
            destination_workload: 'unknown',
            destination_service: 'ratings.default.svc.cluster.local',
            response_code: '503',
          },
          rate: 1,
        },
      ],
      [],
    )
    expect(g.edges[0]).toMatchObject({ destination: 'svc:ratings.default.svc.cluster.local', successRate: 0 })
    expect(g.nodes.find((n) => n.kind === 'service')?.workload).toBe('ratings')
  })
})

describe('histogramQuantile', () => {
  it('interpolates as PromQL, answers the highest finite bound in +Inf, nothing for an empty histogram', () => {
    expect(
      histogramQuantile(0.5, [
        { le: 1, value: 0 },
        { le: 3, value: 10 },
        { le: Infinity, value: 10 },
      ]),
    ).toBe(2)
    expect(
      histogramQuantile(0.99, [
        { le: 5, value: 1 },
        { le: Infinity, value: 10 },
      ]),
    ).toBe(5)
    expect(histogramQuantile(0.99, [{ le: Infinity, value: 0 }])).toBeUndefined()
  })
})

describe('parsePrometheusText and ratesBetween', () => {
  it('reads labels with escapes and computes per-second rates, a reset counter counting from 0', () => {
    const t0 = parsePrometheusText(
      '# HELP x\nminimesh_requests_total{reporter="source",source_workload="a\\"b"} 10\nminimesh_request_duration_milliseconds_bucket{le="+Inf",reporter="source"} 10\nother 1\n',
    )
    expect(t0[0]).toEqual({
      name: 'minimesh_requests_total',
      labels: { reporter: 'source', source_workload: 'a"b' },
      value: 10,
    })
    const t1 = parsePrometheusText(
      'minimesh_requests_total{reporter="source",source_workload="a\\"b"} 30\nminimesh_request_duration_milliseconds_bucket{le="+Inf",reporter="source"} 4\nminimesh_requests_total{reporter="destination"} 5\n',
    )
    const r = ratesBetween({ at: 0, samples: t0 }, { at: 10_000, samples: t1 })
    expect(r.requests.map((x) => x.rate)).toEqual([2, 0.5])
    expect(r.buckets).toEqual([{ labels: { reporter: 'source' }, le: Infinity, rate: 0.4 }])
  })
})
