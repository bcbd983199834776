// gRPC through the proxy end to end: real @grpc/grpc-js clients and servers (HTTP/2 cleartext)
// on loopback, a gateway listener whose routes split by header, rewrite the authority, inject
// an abort fault and retry on grpc-status; the proxy's metrics and access log are read back.
import * as grpc from '@grpc/grpc-js'
import type { Route } from '@minimesh/api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningProxy } from '../proxy.ts'
import { type EchoClientHandle, type EchoServer, echoClient, startEchoServer } from '../testdata/grpc.ts'
import { cluster, endpoints, gatewayConfig, gatewayPort, startTestProxy } from '../testdata/harness.ts'
import { encodeGrpcMessage, httpToGrpcStatus, isGrpcContentType } from './grpc.ts'

const to = (name: string) => ({ name, weight: 1 })

describe('gRPC helpers', () => {
  it('maps HTTP statuses of local replies to gRPC statuses', () => {
    expect(httpToGrpcStatus(503)).toBe(grpc.status.UNAVAILABLE)
    expect(httpToGrpcStatus(429)).toBe(grpc.status.UNAVAILABLE)
    expect(httpToGrpcStatus(404)).toBe(grpc.status.UNIMPLEMENTED)
    expect(httpToGrpcStatus(403)).toBe(grpc.status.PERMISSION_DENIED)
    expect(httpToGrpcStatus(401)).toBe(grpc.status.UNAUTHENTICATED)
    expect(httpToGrpcStatus(400)).toBe(grpc.status.INTERNAL)
    expect(httpToGrpcStatus(500)).toBe(grpc.status.UNKNOWN)
  })

  it('recognises gRPC content types and percent-encodes grpc-message', () => {
    expect(isGrpcContentType('application/grpc')).toBe(true)
    expect(isGrpcContentType('application/grpc+proto')).toBe(true)
    expect(isGrpcContentType('application/grpc-web')).toBe(false)
    expect(isGrpcContentType('application/json')).toBe(false)
    expect(isGrpcContentType(undefined)).toBe(false)
    expect(encodeGrpcMessage('no healthy upstream')).toBe('no healthy upstream')
    expect(encodeGrpcMessage('50% naïve')).toBe('50%25 na%C3%AFve')
  })
})

describe('gRPC through the gateway', () => {
  let v1: EchoServer
  let v2: EchoServer
  let flaky: EchoServer
  let strict: EchoServer
  let proxy: RunningProxy
  let client: EchoClientHandle

  beforeAll(async () => {
    v1 = await startEchoServer('v1')
    v2 = await startEchoServer('v2')
    flaky = await startEchoServer('flaky', 2)
    strict = await startEchoServer('strict', 1)
    const routes: Route[] = [
      {
        name: 'abort',
        match: { path: { exact: '/test.Echo/Abort' } },
        fault: { abort: { httpStatus: 503, percent: 100 } },
        route: { clusters: [to('grpc-v1')] },
      },
      {
        name: 'flaky-cancelled-only',
        match: {
          path: { exact: '/test.Echo/Flaky' },
          headers: [{ name: 'x-retry', match: { exact: 'cancelled' } }],
        },
        route: {
          clusters: [to('grpc-strict')],
          retry: { attempts: 3, retryOn: ['cancelled'], baseIntervalMs: 1 },
        },
      },
      {
        name: 'flaky',
        match: { path: { exact: '/test.Echo/Flaky' } },
        route: {
          clusters: [to('grpc-flaky')],
          retry: { attempts: 3, retryOn: ['unavailable'], baseIntervalMs: 1 },
        },
      },
      {
        name: 'v2',
        match: { headers: [{ name: 'x-version', match: { exact: 'v2' } }] },
        route: { clusters: [to('grpc-v2')], rewrite: { authority: 'echo-v2.internal:50051' } },
      },
      {
        name: 'nowhere',
        match: { path: { prefix: '/test.Echo/Nowhere' } },
        route: { clusters: [to('none')] },
      },
      { name: 'default', match: { path: { prefix: '/' } }, route: { clusters: [to('grpc-v1')] } },
    ]
    const h2 = { protocol: 'http2' as const }
    proxy = await startTestProxy(
      gatewayConfig(
        routes,
        [
          cluster('grpc-v1', h2),
          cluster('grpc-v2', h2),
          cluster('grpc-flaky', h2),
          cluster('grpc-strict', h2),
          cluster('none', { ...h2, type: 'STATIC', loadAssignment: { clusterName: 'none', endpoints: [] } }),
        ],
        [
          endpoints('grpc-v1', [{ port: v1.port, labels: { app: 'echo', version: 'v1' } }]),
          endpoints('grpc-v2', [{ port: v2.port, labels: { app: 'echo', version: 'v2' } }]),
          endpoints('grpc-flaky', [{ port: flaky.port }]),
          endpoints('grpc-strict', [{ port: strict.port }]),
        ],
      ),
    )
    client = echoClient(gatewayPort(proxy))
  })

  afterAll(async () => {
    client.close()
    await proxy.close()
    await Promise.all([v1.close(), v2.close(), flaky.close(), strict.close()])
  })

  it('routes a unary call and brings back the response and its trailers', async () => {
    const r = await client.call('Say', 'hello')
    expect(r.error).toBeUndefined()
    expect(r.response?.toString()).toBe('v1:hello')
    expect(r.status.code).toBe(grpc.status.OK)
    expect(r.status.metadata.get('x-served-by')).toEqual(['v1'])
    expect(v1.calls.at(-1)?.method).toBe('Say')
  })

  it('splits by header and rewrites the authority', async () => {
    const r = await client.call('Say', 'hi', { 'x-version': 'v2' })
    expect(r.response?.toString()).toBe('v2:hi')
    expect(r.status.metadata.get('x-served-by')).toEqual(['v2'])
    expect(v2.calls.at(-1)?.authority).toBe('echo-v2.internal:50051')
    expect(v2.calls.at(-1)?.metadata['x-version']).toBe('v2')
  })

  it('answers a fault abort with the mapped gRPC status', async () => {
    const before = v1.calls.length
    const r = await client.call('Abort', 'x')
    expect(r.error?.code).toBe(grpc.status.UNAVAILABLE)
    expect(r.status.code).toBe(grpc.status.UNAVAILABLE)
    expect(r.status.details).toBe('fault filter abort')
    expect(v1.calls.length).toBe(before)
  })

  it('answers "no healthy upstream" as UNAVAILABLE', async () => {
    const r = await client.call('Nowhere', 'x')
    expect(r.status.code).toBe(grpc.status.UNAVAILABLE)
    expect(r.status.details).toBe('no healthy upstream')
  })

  it('retries on grpc-status UNAVAILABLE (retryOn: unavailable)', async () => {
    const r = await client.call('Flaky', 'x')
    expect(r.error).toBeUndefined()
    expect(r.response?.toString()).toBe('flaky:ok after 3')
    expect(flaky.calls.length).toBe(3)
    const entry = proxy.accessLog.recent.find((e) => e.path === '/test.Echo/Flaky')
    expect(entry?.attempts).toBe(3)
  })

  it('does not retry a gRPC status retryOn does not name', async () => {
    const r = await client.call('Flaky', 'x', { 'x-retry': 'cancelled' })
    expect(r.status.code).toBe(grpc.status.UNAVAILABLE)
    expect(r.status.details).toBe('not yet')
    expect(strict.calls.length).toBe(1)
  })

  it('records the calls in metrics and the access log as HTTP/2', async () => {
    const text = await (await fetch(`http://127.0.0.1:${proxy.ports.stats}/stats/prometheus`)).text()
    expect(text).toMatch(
      /minimesh_requests_total\{reporter="source",[^}]*destination_service="grpc-v1",destination_workload="echo",destination_version="v1",response_code="200",response_flags="-",[^}]*\} [1-9]/,
    )
    expect(text).toMatch(
      /minimesh_requests_total\{reporter="source",[^}]*destination_service="grpc-v1",[^}]*response_code="503",response_flags="FI",[^}]*\} 1/,
    )
    const say = proxy.accessLog.recent.find((e) => e.path === '/test.Echo/Say')
    expect(say).toMatchObject({
      protocol: 'HTTP/2',
      method: 'POST',
      response_code: 200,
      upstream_cluster: 'grpc-v1',
    })
  })
})
