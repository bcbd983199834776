import { gunzipSync } from 'node:zlib'
import * as grpc from '@grpc/grpc-js'
import { formatNodeId, TYPE_ORDER, TypeUrl, validateProxyResource } from '@minimesh/api'
import { afterEach, describe, expect, it } from 'vitest'
import { SnapshotBuilder } from '../snapshot.ts'
import { fixtureStore, PLATFORM } from '../testdata/fixtures.ts'
import { TestProxy } from '../testdata/xds-client.ts'
import { GZIP_MIN_BYTES, gzipFrame } from './resources.ts'
import { acceptsGzip, DiscoveryServer } from './server.ts'

const productpage = {
  id: formatNodeId('sidecar', '198.18.0.16', 'productpage-v1-54bb874995-d5nrg', 'default'),
  namespace: 'default',
  labels: { app: 'productpage', version: 'v1' },
}

function frameOf(message: Buffer): Buffer {
  const frame = Buffer.alloc(message.length + 5)
  frame.writeUInt32BE(message.length, 1)
  message.copy(frame, 5)
  return frame
}

describe('gzip frames', () => {
  it('compresses a large message behind flag 1 and its length, leaves a small one as is', () => {
    const big = Buffer.from(JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ host: `svc-${i}` }))))
    const out = gzipFrame(frameOf(big))
    expect(out[0]).toBe(1)
    expect(out.readUInt32BE(1)).toBe(out.length - 5)
    expect(out.length).toBeLessThan(big.length / 3)
    expect(gunzipSync(out.subarray(5)).equals(big)).toBe(true)
    const small = frameOf(Buffer.alloc(GZIP_MIN_BYTES - 1, 'a'))
    expect(gzipFrame(small)).toBe(small)
  })

  it('knows gzip clients by grpc-accept-encoding, else by the grpc-js user agent', () => {
    const md = (pairs: Record<string, string>) => {
      const m = new grpc.Metadata()
      for (const [k, v] of Object.entries(pairs)) m.set(k, v)
      return m
    }
    expect(acceptsGzip(md({ 'grpc-accept-encoding': 'identity, gzip' }))).toBe(true)
    expect(acceptsGzip(md({ 'grpc-accept-encoding': 'identity', 'user-agent': 'grpc-node-js/1.14.7' }))).toBe(
      false,
    )
    expect(acceptsGzip(md({ 'user-agent': 'mesh-proxy grpc-node-js/1.14.7' }))).toBe(true)
    expect(acceptsGzip(md({ 'user-agent': 'grpc-go/1.60.0' }))).toBe(false)
  })
})

describe('discovery server with compression (real gRPC clients)', () => {
  let server: DiscoveryServer | undefined
  let proxy: TestProxy | undefined
  afterEach(async () => {
    proxy?.close()
    await server?.close()
  })

  for (const compression of ['gzip', 'identity'] as const) {
    it(`${compression}: a grpc-js proxy gets every type intact`, async () => {
      server = new DiscoveryServer({ compression })
      const address = await server.listen('127.0.0.1:0')
      server.setSnapshot(new SnapshotBuilder().build(fixtureStore(PLATFORM)))
      const p = new TestProxy(address, productpage)
      proxy = p
      await p.until(() => TYPE_ORDER.every((t) => p.of(t).length > 0), 5000, 'every type')
      expect(server.connections.get(productpage.id)?.gzip).toBe(compression === 'gzip')
      for (const r of p.received)
        for (const res of r.resources) expect(validateProxyResource(r.typeUrl, res.value)).toEqual([])
      const routes = p.last(TypeUrl.VirtualHost)!.resources
      expect(routes.length).toBeGreaterThan(0)
      // Large enough that the gzip stream carries at least one compressed frame.
      expect(JSON.stringify(routes).length).toBeGreaterThan(GZIP_MIN_BYTES)
    })
  }
})
