import { loadDiscoveryProto, TypeUrl } from '@minimesh/api'
import { describe, expect, it } from 'vitest'
import { encodeResourceEntry, encodeResponseFrame } from './encode.ts'

const method = loadDiscoveryProto().minimesh.discovery.v1.DiscoveryService.service.StreamResources

describe('hand-encoded DiscoveryResponse', () => {
  it('decodes with proto-loader to the same response', () => {
    const big = Buffer.from(JSON.stringify({ name: 'x'.repeat(300), n: 'é' }))
    const entries = [
      [
        encodeResourceEntry(
          TypeUrl.Cluster,
          'outbound|9080||reviews.default.svc.cluster.local',
          Buffer.from('{"a":1}'),
        ),
      ],
      [
        encodeResourceEntry(TypeUrl.Cluster, 'ü', big),
        encodeResourceEntry(TypeUrl.Cluster, '', Buffer.alloc(0)),
      ],
    ]
    const frame = encodeResponseFrame(
      { versionInfo: '7-abcdef12', typeUrl: TypeUrl.Cluster, nonce: 'k3', controlPlaneId: 'meshd-x' },
      entries,
    )
    expect(frame[0]).toBe(0)
    expect(frame.readUInt32BE(1)).toBe(frame.length - 5)
    const decoded = method.responseDeserialize(frame.subarray(5))
    expect(decoded.version_info).toBe('7-abcdef12')
    expect(decoded.type_url).toBe(TypeUrl.Cluster)
    expect(decoded.nonce).toBe('k3')
    expect(decoded.control_plane_id).toBe('meshd-x')
    expect(decoded.resources.map((r) => [r.type_url, r.name, r.version, r.value.toString()])).toEqual([
      [TypeUrl.Cluster, 'outbound|9080||reviews.default.svc.cluster.local', '', '{"a":1}'],
      [TypeUrl.Cluster, 'ü', '', big.toString()],
      [TypeUrl.Cluster, '', '', ''],
    ])
  })

  it('encodes lengths past one varint byte (a 200 KB resource)', () => {
    const value = Buffer.alloc(200_000, 0x61)
    const frame = encodeResponseFrame(
      { versionInfo: '', typeUrl: TypeUrl.RouteConfiguration, nonce: 'n', controlPlaneId: '' },
      [[encodeResourceEntry(TypeUrl.RouteConfiguration, '9080', value)]],
    )
    const decoded = method.responseDeserialize(frame.subarray(5))
    expect(decoded.resources[0]!.value.length).toBe(200_000)
    expect(decoded.version_info).toBe('')
    expect(decoded.incremental).toBe(false)
    expect(decoded.removed_resources).toEqual([])
  })

  it('encodes an incremental response with removed names (empty and non-ASCII ones too)', () => {
    const frame = encodeResponseFrame(
      {
        versionInfo: '9-00ff00ff',
        typeUrl: TypeUrl.VirtualHost,
        nonce: 'z',
        controlPlaneId: 'meshd-x',
        incremental: true,
        removed: ['9080/reviews.default.svc.cluster.local:9080', '', 'ü'.repeat(100)],
      },
      [[encodeResourceEntry(TypeUrl.VirtualHost, '9080/a:9080', Buffer.from('{}'))]],
    )
    expect(frame.readUInt32BE(1)).toBe(frame.length - 5)
    const decoded = method.responseDeserialize(frame.subarray(5))
    expect(decoded.incremental).toBe(true)
    expect(decoded.removed_resources).toEqual([
      '9080/reviews.default.svc.cluster.local:9080',
      '',
      'ü'.repeat(100),
    ])
    expect(decoded.resources.map((r) => r.name)).toEqual(['9080/a:9080'])
    expect(decoded.control_plane_id).toBe('meshd-x')
  })
})
