import type { KubeObject } from '@minimesh/api/kube'
import { describe, expect, it } from 'vitest'
import { resolveHost, serviceHostnames } from './hosts.ts'
import { portProtocol } from './protocol.ts'
import { buildRegistry, resolveTargetPort, workloadName } from './registry.ts'

const service = (
  name: string,
  ports: Record<string, unknown>[],
  extra: Record<string, unknown> = {},
): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'shop' },
  spec: { clusterIP: '10.0.0.9', selector: { app: name }, ports, ...extra },
})
const pod = (
  name: string,
  ip: string,
  labels: Record<string, string>,
  ports: Record<string, unknown>[] = [],
): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'shop', labels },
  spec: { serviceAccountName: 'sa', containers: [{ name: 'c', ports }] },
  status: { podIP: ip },
})

describe('protocols and hostnames', () => {
  it('takes the protocol from appProtocol, else the port name (Istio naming), else TCP', () => {
    expect(portProtocol('http', undefined)).toBe('http')
    expect(portProtocol('http-web', undefined)).toBe('http')
    expect(portProtocol('http2', undefined)).toBe('http2')
    expect(portProtocol('grpc-api', undefined)).toBe('grpc')
    expect(portProtocol('tcp-db', undefined)).toBe('tcp')
    expect(portProtocol('httpx', undefined)).toBe('tcp')
    expect(portProtocol('', undefined)).toBe('tcp')
    expect(portProtocol('web', 'http')).toBe('http')
    expect(portProtocol('http', 'kubernetes.io/h2c')).toBe('http2')
    expect(portProtocol('db', 'grpc')).toBe('grpc')
  })

  it('names a service as seen from its own namespace and from others', () => {
    expect(serviceHostnames('reviews', 'default', 'default')).toEqual([
      'reviews',
      'reviews.default',
      'reviews.default.svc',
      'reviews.default.svc.cluster.local',
    ])
    expect(serviceHostnames('reviews', 'default', 'other')[0]).toBe('reviews.default')
  })

  it('resolves short names relative to the resource namespace, Istio style', () => {
    expect(resolveHost('reviews', 'prod')).toBe('reviews.prod.svc.cluster.local')
    expect(resolveHost('reviews.default', 'prod')).toBe('reviews.default')
    expect(resolveHost('*.example.com', 'prod')).toBe('*.example.com')
    expect(resolveHost('10.0.0.1', 'prod')).toBe('10.0.0.1')
  })
})

describe('buildRegistry', () => {
  it('reads services, endpoints with pod labels and readiness, and resolves named target ports', () => {
    const reg = buildRegistry([
      service('cart', [
        { name: 'http', port: 80, targetPort: 'web' },
        { name: 'grpc', port: 90, targetPort: 9090, appProtocol: 'grpc' },
        { name: 'dns', port: 53, protocol: 'UDP' },
      ]),
      pod('cart-v1-abc12-xyz', '10.1.0.1', { app: 'cart', version: 'v1', 'pod-template-hash': 'abc12' }, [
        { name: 'web', containerPort: 8080 },
      ]),
      pod('cart-v2-def34-uvw', '10.1.0.2', { app: 'cart', version: 'v2' }),
      {
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: { name: 'cart', namespace: 'shop' },
        subsets: [
          {
            addresses: [{ ip: '10.1.0.1', targetRef: { kind: 'Pod', name: 'cart-v1-abc12-xyz' } }],
            notReadyAddresses: [{ ip: '10.1.0.2', targetRef: { kind: 'Pod', name: 'cart-v2-def34-uvw' } }],
            ports: [
              { name: 'http', port: 8080 },
              { name: 'grpc', port: 9090 },
            ],
          },
        ],
      },
    ])
    const cart = reg.service('cart.shop.svc.cluster.local')!
    expect(cart.ports.map((p) => [p.port, p.protocol])).toEqual([
      [80, 'http'],
      [90, 'grpc'],
    ])
    const eps = reg.endpoints(cart, cart.ports[0]!)
    expect(eps.map((e) => [e.address, e.port, e.ready, e.labels.version, e.workload])).toEqual([
      ['10.1.0.1', 8080, true, 'v1', 'cart-v1'],
      ['10.1.0.2', 8080, false, 'v2', 'cart-v2-def34-uvw'],
    ])
    expect(
      resolveTargetPort(reg, cart, cart.ports[0]!, { name: 'cart-v1-abc12-xyz', namespace: 'shop' }),
    ).toBe(8080)
    expect(resolveTargetPort(reg, cart, cart.ports[1]!, { namespace: 'shop' })).toBe(9090)
  })

  it('prefers EndpointSlices, keeps headless services without an address, honours exportTo', () => {
    const reg = buildRegistry([
      service('db', [{ name: 'tcp', port: 5432 }], { clusterIP: 'None' }),
      {
        ...service('api', [{ name: 'http', port: 80 }]),
        metadata: {
          name: 'api',
          namespace: 'shop',
          annotations: { 'networking.istio.io/exportTo': '., ops' },
        },
      },
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'api-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'api' } },
        addressType: 'IPv4',
        endpoints: [
          { addresses: ['10.2.0.1'], conditions: { ready: true } },
          { addresses: ['10.2.0.2'], conditions: { ready: false } },
        ],
        ports: [{ name: 'http', port: 8000 }],
      },
      {
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: { name: 'api', namespace: 'shop' },
        subsets: [{ addresses: [{ ip: '10.9.9.9' }], ports: [{ name: 'http', port: 1 }] }],
      },
    ])
    expect(reg.service('db.shop.svc.cluster.local')!.clusterIP).toBeUndefined()
    const api = reg.service('api.shop.svc.cluster.local')!
    expect(api.exportTo).toEqual(['.', 'ops'])
    expect(reg.endpoints(api, api.ports[0]!).map((e) => `${e.address}:${e.port}:${e.ready}`)).toEqual([
      '10.2.0.1:8000:true',
      '10.2.0.2:8000:false',
    ])
  })

  it('names workloads after their owner', () => {
    expect(
      workloadName({
        name: 'r-v1-5c5b-abcde',
        labels: { 'pod-template-hash': '5c5b' },
        ownerReferences: [{ kind: 'ReplicaSet', name: 'r-v1-5c5b' }],
      }),
    ).toBe('r-v1')
    expect(workloadName({ name: 'db-0', ownerReferences: [{ kind: 'StatefulSet', name: 'db' }] })).toBe('db')
    expect(workloadName({ name: 'r-v1-5c5b-abcde', labels: { 'pod-template-hash': '5c5b' } })).toBe('r-v1')
    expect(workloadName({ name: 'lonely' })).toBe('lonely')
  })
})
