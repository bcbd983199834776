// The discovery client against a real gRPC server (a small one made here with the same proto):
// node and wildcard requests, ACK, NACK with error_detail keeping the last good configuration,
// reconnect, a swap that does not disturb a request in flight, and incremental virtual hosts.
import { createServer as createH2Server } from 'node:http2'
import * as grpc from '@grpc/grpc-js'
import {
  type DiscoveryRequest,
  type DiscoveryResponse,
  encodeResource,
  loadDiscoveryProto,
  resourceName,
  TYPE_ORDER,
  TypeUrl,
} from '@minimesh/api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { StaticConfig } from '../config/validate.ts'
import type { RunningProxy } from '../proxy.ts'
import {
  call,
  cluster,
  endpoints,
  gatewayConfig,
  gatewayPort,
  startTestProxy,
  startUpstream,
  type Upstream,
} from '../testdata/harness.ts'

type Stream = grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>

/** A discovery server that records requests and pushes whatever the test asks. */
class TestServer {
  readonly server = new grpc.Server()
  readonly requests: DiscoveryRequest[] = []
  streams: Stream[] = []
  port = 0
  private nonce = 0
  config: StaticConfig = {}
  version = 'v1'

  async start(): Promise<void> {
    const proto = loadDiscoveryProto()
    this.server.addService(proto.minimesh.discovery.v1.DiscoveryService.service, {
      StreamResources: (stream: Stream) => {
        this.streams.push(stream)
        stream.on('data', (req: DiscoveryRequest) => {
          this.requests.push(req)
          // First request of a type on this stream: answer with the current state of the world.
          if (!req.response_nonce) this.push(stream, req.type_url as TypeUrl)
        })
        stream.on('error', () => {})
        stream.on('end', () => stream.end())
      },
    })
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    )
  }

  resources(t: TypeUrl): unknown[] {
    const c = this.config
    return (
      {
        [TypeUrl.Cluster]: c.clusters,
        [TypeUrl.ClusterLoadAssignment]: c.endpoints,
        [TypeUrl.Listener]: c.listeners,
        [TypeUrl.RouteConfiguration]: c.routes,
        [TypeUrl.VirtualHost]: c.virtualHosts,
        [TypeUrl.Secret]: c.secrets,
      }[t] ?? []
    )
  }

  push(
    stream: Stream,
    t: TypeUrl,
    raw?: { name: string; value: Buffer }[],
    delta?: { changed: unknown[]; removed: string[] },
  ): string {
    const nonce = `n${++this.nonce}`
    const resources =
      raw?.map((r) => ({ type_url: t, name: r.name, version: this.version, value: r.value })) ??
      (delta?.changed ?? this.resources(t)).map((r) =>
        encodeResource(t, resourceName(t, r as Record<string, unknown>), r, this.version),
      )
    stream.write({
      version_info: this.version,
      type_url: t,
      nonce,
      resources,
      control_plane_id: 'test',
      ...(delta ? { incremental: true, removed_resources: delta.removed } : {}),
    })
    return nonce
  }

  pushAll(): void {
    for (const s of this.streams) for (const t of TYPE_ORDER) this.push(s, t)
  }

  answers(nonce: string): DiscoveryRequest | undefined {
    return this.requests.find((r) => r.response_nonce === nonce)
  }

  stop(): void {
    this.server.forceShutdown()
  }
}

const route = (name: string, timeoutMs?: number) => ({
  match: {},
  route: { clusters: [{ name, weight: 1 }], ...(timeoutMs ? { timeoutMs } : {}) },
})

describe('discovery client', () => {
  let ts: TestServer
  let a: Upstream
  let b: Upstream
  let proxy: RunningProxy

  beforeAll(async () => {
    a = await startUpstream('a', (req, res) => {
      if (req.url === '/slow') setTimeout(() => res.end('{"name":"a-slow"}'), 400)
      else res.end('{"name":"a"}')
    })
    b = await startUpstream('b')
    ts = new TestServer()
    ts.config = gatewayConfig(
      [route('ca')],
      [cluster('ca'), cluster('cb')],
      [endpoints('ca', [a]), endpoints('cb', [b])],
    )
    await ts.start()
    proxy = await startTestProxy(undefined, {
      mode: 'router',
      discoveryAddress: `127.0.0.1:${ts.port}`,
      identity: {
        workload: 'gw',
        namespace: 'minimesh-system',
        pod: 'gw-1',
        ip: '127.0.0.9',
        labels: { minimesh: 'ingressgateway' },
      },
      xdsInitialBackoffMs: 50,
      xdsMaxBackoffMs: 200,
    })
    await proxy.whenReady()
  })
  afterAll(async () => {
    await proxy.close()
    ts.stop()
    await Promise.all([a.close(), b.close()])
  })

  it('sends node and wildcard requests for every type, taking incremental responses, ACKs each response', async () => {
    const first = ts.requests.filter((r) => !r.response_nonce)
    expect(first.map((r) => r.type_url)).toEqual(TYPE_ORDER)
    for (const r of first) {
      expect(r.node?.id).toBe('router~127.0.0.9~gw-1.minimesh-system~minimesh-system.svc.cluster.local')
      expect(r.node?.labels).toEqual({ minimesh: 'ingressgateway' })
      expect(r.resource_names).toEqual([])
      expect(r.incremental).toBe(true)
    }
    await expect
      .poll(() => ts.requests.filter((r) => r.response_nonce && !r.error_detail).length)
      .toBe(TYPE_ORDER.length)
    for (const ack of ts.requests.filter((r) => r.response_nonce)) expect(ack.version_info).toBe('v1')
    const health = await fetch(`http://127.0.0.1:${proxy.ports.health}/healthz/ready`)
    expect(health.status).toBe(200)
    expect((await call(gatewayPort(proxy), '/')).json<{ name: string }>().name).toBe('a')
  })

  it('NACKs an invalid route configuration with the reason and keeps serving the last good one', async () => {
    const stream = ts.streams.at(-1)!
    ts.version = 'v2'
    ts.config = { ...ts.config, routes: gatewayConfig([route('missing')], [], []).routes }
    const nonce = ts.push(stream, TypeUrl.RouteConfiguration)
    await expect.poll(() => ts.answers(nonce)).toBeDefined()
    const nack = ts.answers(nonce)!
    expect(nack.version_info).toBe('v1')
    expect(nack.error_detail?.code).toBe(3)
    expect(nack.error_detail?.message).toBe(
      'RouteConfiguration http.8080: virtualHosts[0].routes[0].route.clusters[0].name: unknown cluster missing',
    )
    expect((await call(gatewayPort(proxy), '/')).json<{ name: string }>().name).toBe('a')
  })

  it('NACKs a schema violation and bad JSON', async () => {
    const stream = ts.streams.at(-1)!
    const bad = { ...cluster('cx'), lbPolicy: 'FASTEST' }
    const n1 = ts.push(stream, TypeUrl.Cluster, [{ name: 'cx', value: Buffer.from(JSON.stringify(bad)) }])
    const n2 = ts.push(stream, TypeUrl.Listener, [{ name: 'l', value: Buffer.from('{not json') }])
    await expect.poll(() => ts.answers(n1) && ts.answers(n2)).toBeTruthy()
    expect(ts.answers(n1)?.error_detail?.message).toMatch(/^Cluster cx: lbPolicy: .*FASTEST/)
    expect(ts.answers(n2)?.error_detail?.message).toMatch(/^resource l: invalid JSON/)
    expect(proxy.store.versions[TypeUrl.Cluster]).toBe('v1')
    expect((await call(gatewayPort(proxy), '/')).status).toBe(200)
  })

  it('swaps configuration without failing a request in flight', async () => {
    const slow = call(gatewayPort(proxy), '/slow')
    await new Promise((r) => setTimeout(r, 100))
    ts.version = 'v3'
    ts.config = gatewayConfig([route('cb')], [cluster('cb')], [endpoints('cb', [b])])
    ts.pushAll()
    await expect.poll(() => proxy.store.versions[TypeUrl.RouteConfiguration]).toBe('v3')
    expect((await call(gatewayPort(proxy), '/')).json<{ name: string }>().name).toBe('b')
    const r = await slow
    expect(r.status).toBe(200)
    expect(r.json<{ name: string }>().name).toBe('a-slow')
  })

  it('reconnects after the stream ends, sending the accepted versions, and keeps the configuration meanwhile', async () => {
    const before = ts.streams.length
    ts.streams.at(-1)!.end()
    expect((await call(gatewayPort(proxy), '/')).json<{ name: string }>().name).toBe('b')
    await expect.poll(() => ts.streams.length, { timeout: 5000 }).toBe(before + 1)
    await expect.poll(() => ts.requests.filter((r) => !r.response_nonce).length).toBe(2 * TYPE_ORDER.length)
    const again = ts.requests.filter((r) => !r.response_nonce).slice(TYPE_ORDER.length)
    // Every type was answered in full once (an empty list for virtual hosts) and is asked for again at its version.
    expect(again.map((r) => r.version_info)).toEqual(TYPE_ORDER.map(() => 'v3'))
    expect(proxy.xds?.stats.connects).toBe(2)
    // A stream that had answered ends: the same channel (and connection) is used again.
    expect(proxy.xds?.stats.channels).toBe(1)
  })

  it('applies incremental virtual hosts: added, changed, removed; a NACKed delta changes nothing', async () => {
    const host = (name: string, cluster: string) => ({
      routeConfiguration: 'http.8080',
      virtualHost: { name, domains: [`${name}.test`], routes: [route(cluster)] },
    })
    const base = gatewayConfig(
      [],
      [cluster('ca'), cluster('cb')],
      [endpoints('ca', [a]), endpoints('cb', [b])],
    )
    ts.version = 'v4'
    ts.config = {
      ...base,
      routes: [{ name: 'http.8080', vhds: true, virtualHosts: [] }],
      virtualHosts: [host('one', 'ca'), host('two', 'cb')],
    }
    ts.pushAll()
    await expect.poll(() => proxy.store.versions[TypeUrl.VirtualHost]).toBe('v4')
    const via = async (h: string) =>
      (await call(gatewayPort(proxy), '/', { headers: { host: h } })).json<{ name: string }>().name
    expect(await via('one.test')).toBe('a')
    expect(await via('two.test')).toBe('b')

    const stream = ts.streams.at(-1)!
    ts.version = 'v5'
    const ok = ts.push(stream, TypeUrl.VirtualHost, undefined, {
      changed: [host('one', 'cb'), host('three', 'ca')],
      removed: ['http.8080/two'],
    })
    await expect.poll(() => ts.answers(ok)?.version_info).toBe('v5')
    expect(ts.answers(ok)?.error_detail ?? undefined).toBeUndefined()
    expect(await via('one.test')).toBe('b')
    expect(await via('three.test')).toBe('a')
    expect((await call(gatewayPort(proxy), '/', { headers: { host: 'two.test' } })).status).toBe(404)
    expect(proxy.store.dump().routes[0]!.virtualHosts.map((v) => v.name)).toEqual(['one', 'three'])

    ts.version = 'v6'
    const bad = ts.push(stream, TypeUrl.VirtualHost, undefined, {
      changed: [host('four', 'missing')],
      removed: ['http.8080/one'],
    })
    await expect.poll(() => ts.answers(bad)).toBeDefined()
    expect(ts.answers(bad)?.version_info).toBe('v5')
    expect(ts.answers(bad)?.error_detail?.message).toBe(
      'VirtualHost http.8080/four: virtualHost.routes[0].route.clusters[0].name: unknown cluster missing',
    )
    expect(await via('one.test')).toBe('b')
    expect(proxy.store.versions[TypeUrl.VirtualHost]).toBe('v5')
  })
})

describe('discovery client at an address where no control plane answers', () => {
  it('opens a new channel (new name resolution and connection) after each stream that got no response', async () => {
    // An HTTP/2 server that answers every request 404, as whatever holds a stale address might:
    // gRPC sees UNIMPLEMENTED on a healthy connection and would keep reusing it forever.
    let sessions = 0
    const server = createH2Server()
    server.on('session', () => sessions++)
    server.on('stream', (stream) => {
      stream.respond({ ':status': 404 })
      stream.end()
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const { port } = server.address() as { port: number }
    const proxy = await startTestProxy(undefined, {
      mode: 'router',
      discoveryAddress: `127.0.0.1:${port}`,
      identity: { workload: 'gw', namespace: 'minimesh-system', pod: 'gw-2', ip: '127.0.0.9', labels: {} },
      xdsInitialBackoffMs: 20,
      xdsMaxBackoffMs: 40,
    })
    try {
      await expect.poll(() => proxy.xds?.stats.connects ?? 0, { timeout: 5000 }).toBeGreaterThanOrEqual(4)
      expect(proxy.xds?.stats.lastError).toContain('UNIMPLEMENTED')
      expect(proxy.xds?.stats.channels).toBeGreaterThanOrEqual(3)
      await expect.poll(() => sessions, { timeout: 5000 }).toBeGreaterThanOrEqual(3)
    } finally {
      await proxy.close()
      await new Promise<void>((r) => server.close(() => r()))
    }
  })
})
