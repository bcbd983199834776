// The Kubernetes source against a FAKE API server: no Kubernetes runs here, so a real local HTTP
// server replays recorded list and watch responses (including a 410 Gone and failures) and a real
// KubeConfig points @kubernetes/client-node at it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { KubeConfig } from '@kubernetes/client-node'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConfigStore } from '../store.ts'
import { KubernetesSource, loadKubeConfig } from './kubernetes.ts'

type Script = {
  list: (() => { status: number; body: unknown })[]
  watch: (() => { events: unknown[]; end: boolean })[]
}

const svc = (name: string, rv: string, port = 9080) => ({
  metadata: {
    name,
    namespace: 'default',
    resourceVersion: rv,
    creationTimestamp: '2025-01-01T00:00:00Z',
    uid: name,
  },
  spec: {
    clusterIP: '10.0.0.1',
    ports: [{ name: 'http', port, protocol: 'TCP', targetPort: port }],
    selector: { app: name },
  },
})
const list = (kind: string, apiVersion: string, rv: string, items: unknown[]) => () => ({
  status: 200,
  body: { kind, apiVersion, metadata: { resourceVersion: rv }, items },
})
const empty = (kind: string, apiVersion = 'v1') => ({ list: [list(kind, apiVersion, '1', [])], watch: [] })
const gone = {
  type: 'ERROR',
  object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410 },
}

let server: Server
let requests: string[]
let scripts: Record<string, Script>
const counters = new Map<string, number>()
let source: KubernetesSource | undefined

/** The next recorded response; lists repeat their last one, watches go idle once replayed. */
function next<T>(key: string, list: T[], repeatLast: boolean): T | undefined {
  const n = counters.get(key) ?? 0
  counters.set(key, n + 1)
  return list[repeatLast ? Math.min(n, list.length - 1) : n]
}

function handle(req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? '/', 'http://x')
  requests.push(`${url.pathname}${url.search}`)
  const script = scripts[url.pathname]
  if (!script) {
    res
      .writeHead(404, { 'content-type': 'application/json' })
      .end(JSON.stringify({ kind: 'Status', code: 404 }))
    return
  }
  if (url.searchParams.get('watch') !== 'true') {
    const r = next(`list ${url.pathname}`, script.list, true)!()
    res.writeHead(r.status, { 'content-type': 'application/json' }).end(JSON.stringify(r.body))
    return
  }
  const w = next(`watch ${url.pathname}`, script.watch, false)
  res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' })
  res.flushHeaders()
  if (!w) return // an idle watch: stays open
  const { events, end } = w()
  for (const e of events) res.write(`${JSON.stringify(e)}\n`)
  if (end) res.end()
}

function kubeConfigFor(port: number): KubeConfig {
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'fake-token' }],
    contexts: [{ name: 'c', cluster: 'fake', user: 'u' }],
    currentContext: 'c',
  })
  return kc
}

const keys = (store: ConfigStore) => [...store.values()].map((o) => o.key).sort()
async function eventually(pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 10))
  }
}

beforeEach(async () => {
  requests = []
  counters.clear()
  server = createServer(handle)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
})
afterEach(async () => {
  await source?.close()
  source = undefined
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
})

describe('KubernetesSource against a fake API server (recorded list/watch responses)', () => {
  it('lists, follows watch events, relists after 410 Gone, restarts failed informers with backoff', async () => {
    let vsLists = 0
    scripts = {
      '/api/v1/namespaces': {
        list: [list('NamespaceList', 'v1', '5', [{ metadata: { name: 'default', resourceVersion: '5' } }])],
        watch: [],
      },
      '/api/v1/services': {
        list: [
          list('ServiceList', 'v1', '100', [svc('reviews', '90'), svc('ratings', '91')]),
          // After the 410: details went away meanwhile, productpage came.
          list('ServiceList', 'v1', '200', [svc('reviews', '102', 9081), svc('productpage', '150')]),
        ],
        watch: [
          () => ({
            events: [
              { type: 'ADDED', object: { kind: 'Service', apiVersion: 'v1', ...svc('details', '101') } },
              {
                type: 'MODIFIED',
                object: { kind: 'Service', apiVersion: 'v1', ...svc('reviews', '102', 9081) },
              },
              { type: 'DELETED', object: { kind: 'Service', apiVersion: 'v1', ...svc('ratings', '103') } },
              gone,
            ],
            end: true,
          }),
        ],
      },
      '/api/v1/pods': empty('PodList'),
      '/apis/discovery.k8s.io/v1/endpointslices': {
        list: [
          list('EndpointSliceList', 'discovery.k8s.io/v1', '7', [
            {
              metadata: {
                name: 'reviews-abc',
                namespace: 'default',
                labels: { 'kubernetes.io/service-name': 'reviews' },
                resourceVersion: '7',
              },
              addressType: 'IPv4',
              endpoints: [
                {
                  addresses: ['10.1.0.5'],
                  conditions: { ready: true },
                  targetRef: { kind: 'Pod', name: 'reviews-v1-x', namespace: 'default' },
                },
              ],
              ports: [{ name: 'http', port: 9081, protocol: 'TCP' }],
            },
          ]),
        ],
        watch: [],
      },
      '/apis/networking.istio.io/v1/virtualservices': {
        list: [
          () => {
            vsLists++
            return { status: 500, body: { kind: 'Status', code: 500, message: 'etcd is having a bad day' } }
          },
          () => {
            vsLists++
            return list('VirtualServiceList', 'networking.istio.io/v1', '300', [
              {
                apiVersion: 'networking.istio.io/v1',
                kind: 'VirtualService',
                metadata: {
                  name: 'reviews',
                  namespace: 'default',
                  resourceVersion: '300',
                  generation: 1,
                  uid: 'u-1',
                  managedFields: [{ manager: 'kubectl' }],
                },
                spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews' } }] }] },
                status: { observedGeneration: 1 },
              },
            ])()
          },
        ],
        watch: [],
      },
      // DestinationRule: not served (CRD not installed) → 404, retried in the background.
      '/apis/networking.istio.io/v1/gateways': empty('GatewayList', 'networking.istio.io/v1'),
      '/apis/policy.minimesh.dev/v1alpha1/quotapolicies': empty(
        'QuotaPolicyList',
        'policy.minimesh.dev/v1alpha1',
      ),
    }
    const port = (server.address() as AddressInfo).port
    const store = new ConfigStore()
    const changes: string[] = []
    store.onChange((key) => changes.push(`${key}${store.get(key) ? '' : ' (deleted)'}`))
    source = new KubernetesSource(kubeConfigFor(port), { backoff: { initialMs: 50, maxMs: 200 } })
    await source.start(store)
    expect(keys(store)).toEqual(
      expect.arrayContaining([
        'core/Namespace//default',
        'discovery.k8s.io/EndpointSlice/default/reviews-abc',
      ]),
    )

    // Watch: details added, reviews changed, ratings deleted; then 410 → relist: details gone, productpage new.
    await eventually(() => keys(store).includes('core/Service/default/productpage'))
    await eventually(() => keys(store).includes('networking.istio.io/VirtualService/default/reviews'))
    await eventually(
      () => requests.filter((r) => r === '/apis/networking.istio.io/v1/destinationrules').length >= 3,
    )
    expect(keys(store)).toEqual([
      'core/Namespace//default',
      'core/Service/default/productpage',
      'core/Service/default/reviews',
      'discovery.k8s.io/EndpointSlice/default/reviews-abc',
      'networking.istio.io/VirtualService/default/reviews',
    ])
    const reviews = store.get('core/Service/default/reviews')!.object as unknown as {
      spec: { ports: { port: number }[] }
    }
    expect(reviews.spec.ports[0]!.port).toBe(9081)
    expect(vsLists).toBe(2)
    const serviceChanges = changes.filter((c) => c.startsWith('core/Service/'))
    expect(serviceChanges).toEqual([
      'core/Service/default/reviews',
      'core/Service/default/ratings',
      'core/Service/default/details', // watch: ADDED
      'core/Service/default/reviews', // watch: MODIFIED
      'core/Service/default/ratings (deleted)', // watch: DELETED
      'core/Service/default/details (deleted)', // relist after 410: gone meanwhile
      'core/Service/default/productpage', // relist: new
    ])
    const svcRequests = requests.filter((r) => r.startsWith('/api/v1/services'))
    expect(svcRequests[0]).toBe('/api/v1/services')
    expect(svcRequests[1]).toMatch(/watch=true/)
    expect(svcRequests[1]).toMatch(/resourceVersion=100/)
    expect(svcRequests[2]).toBe('/api/v1/services') // the relist after 410
    expect(svcRequests[3]).toMatch(/resourceVersion=200/)
    // Objects are kept small and plain: Dates become strings, managed fields go; a mesh
    // resource's status stays (meshd compares it with what it would write).
    const vs = store.get('networking.istio.io/VirtualService/default/reviews')!.object
    expect(vs.status).toEqual({ observedGeneration: 1 })
    expect(vs.metadata).toEqual({
      name: 'reviews',
      namespace: 'default',
      resourceVersion: '300',
      uid: 'u-1', // kept: which incarnation of the name meshd read
      generation: 1, // kept: resource status reports which generation serves
    })
    expect(store.get('core/Service/default/reviews')!.object.status).toBeUndefined()
    expect(typeof store.get('core/Service/default/reviews')!.object.metadata.creationTimestamp).toBe('string')
  })

  it('has no configuration to fall back on without a cluster, KUBECONFIG or ~/.kube/config', () => {
    const env = { HOME: '/nonexistent' }
    const home = process.env.HOME
    process.env.HOME = '/nonexistent'
    try {
      expect(() => loadKubeConfig(env)).toThrow(
        expect.objectContaining({ code: 'MESH_ERR_MESHD_KUBECONFIG' }),
      )
    } finally {
      process.env.HOME = home
    }
  })
})
