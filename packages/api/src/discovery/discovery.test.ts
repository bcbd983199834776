import * as grpc from '@grpc/grpc-js'
import { describe, expect, it } from 'vitest'
import { TypeUrl } from '../config/index.ts'
import { checkGenerated } from './generate.ts'
import { type DiscoveryRequest, type DiscoveryResponse, loadDiscoveryProto } from './proto.ts'
import { decodeResource, encodeResource, formatNodeId, parseNodeId } from './resource.ts'

describe('discovery protocol', () => {
  it('generated TypeScript in src/gen is up to date with the .proto (run `pnpm generate` if not)', () => {
    expect(checkGenerated()).toEqual([])
  })

  it('node ids round-trip', () => {
    const id = formatNodeId('sidecar', '198.18.0.7', 'reviews-v1-abc', 'default')
    expect(id).toBe('sidecar~198.18.0.7~reviews-v1-abc.default~default.svc.cluster.local')
    expect(parseNodeId(id)).toEqual({
      type: 'sidecar',
      ip: '198.18.0.7',
      id: 'reviews-v1-abc.default',
      domain: 'default.svc.cluster.local',
    })
    expect(parseNodeId('proxy~1~2~3')).toBeUndefined()
    expect(parseNodeId('sidecar~1~2')).toBeUndefined()
  })

  it('streams a request and a response over real gRPC on loopback', async () => {
    const proto = loadDiscoveryProto()
    const server = new grpc.Server()
    const seen: DiscoveryRequest[] = []
    server.addService(proto.minimesh.discovery.v1.DiscoveryService.service, {
      StreamResources(call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) {
        call.on('data', (req: DiscoveryRequest) => {
          seen.push(req)
          call.write({
            version_info: '1',
            type_url: req.type_url,
            nonce: 'n1',
            resources: [encodeResource(TypeUrl.Cluster, 'c1', { name: 'c1', type: 'EDS' }, '1')],
          })
        })
        call.on('end', () => call.end())
      },
    })
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    )
    const client = new proto.minimesh.discovery.v1.DiscoveryService(
      `127.0.0.1:${port}`,
      grpc.credentials.createInsecure(),
    )
    try {
      const stream = client.StreamResources()
      const status = new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve))
      stream.on('error', () => {}) // the status carries the outcome
      const response = new Promise<DiscoveryResponse>((resolve) => stream.once('data', resolve))
      stream.write({
        node: { id: 'sidecar~127.0.0.1~p.default~default.svc.cluster.local', labels: { app: 'reviews' } },
        type_url: TypeUrl.Cluster,
      })
      const res = (await response) as DiscoveryResponse & { resources: { value: Buffer; name: string }[] }
      stream.end()
      expect((await status).code).toBe(grpc.status.OK)
      expect(res.version_info).toBe('1')
      expect(res.resources.map((r) => [r.name, decodeResource(r)])).toEqual([
        ['c1', { name: 'c1', type: 'EDS' }],
      ])
      expect(seen[0]?.node?.labels).toEqual({ app: 'reviews' })
      expect(seen[0]?.type_url).toBe(TypeUrl.Cluster)
    } finally {
      client.close()
      server.forceShutdown()
    }
  })
})
