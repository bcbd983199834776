// Two sidecars for the mesh mTLS tests over real TLS sockets: a client sidecar (productpage) that
// sends to a server sidecar's inbound capture port (reviews), with workload certificates from a
// test mesh CA, and the app behind the server. `useMtlsMesh()` makes the CA and the app for a test
// file; `ca` and `app` are live bindings, set once its beforeAll has run.
import http from 'node:http'
import type net from 'node:net'
import type { Cluster, FilterChain, LbEndpoint } from '@minimesh/api'
import { afterAll, beforeAll } from 'vitest'
import type { StaticConfig } from '../config/validate.ts'
import { CertificateStore, type WorkloadCertificate } from '../identity/certificates.ts'
import type { Destination } from '../listeners/conn.ts'
import type { RunningProxy } from '../proxy.ts'
import { startTestProxy, startUpstream, type Upstream } from './harness.ts'
import { createTestMeshCa, type TestMeshCa } from './mesh-ca.ts'
import { POD_IP, REVIEWS_IP, sidecarConfig } from './sidecar.ts'

export type Mode = NonNullable<FilterChain['mtls']>['mode']
export const REVIEWS = 'outbound|9080||reviews.default.svc.cluster.local'
export const DB = 'outbound|3306||db.default.svc.cluster.local'
export const PRODUCTPAGE = 'cluster.local/ns/default/sa/bookinfo-productpage'
export const REVIEWS_SA = 'cluster.local/ns/default/sa/bookinfo-reviews'

export function httpGet(port: number, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => {
        body += c
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

export const viaClient = (client: RunningProxy, path = '/r') =>
  httpGet(client.ports.listeners.virtualOutbound!, path, { host: 'reviews:9080' })

/** What a raw client gets from a port: an HTTP answer, or the connection closed without one. */
export function rawExchange(socket: net.Socket, send: string): Promise<string> {
  return new Promise((resolve) => {
    let got = ''
    socket.on('data', (d: Buffer) => {
      got += d
    })
    socket.on('error', () => resolve(`closed:${got}`))
    socket.on('close', () => resolve(`closed:${got}`))
    socket.write(send)
    setTimeout(() => {
      socket.destroy()
      resolve(`timeout:${got}`)
    }, 3000)
  })
}

export const metrics = async (p: RunningProxy) =>
  (await fetch(`http://127.0.0.1:${p.ports.stats}/stats/prometheus`)).text()

export let ca: TestMeshCa
export let app: Upstream
export const certFor = (sa: string) => ca.issue('default', sa)

/** The server sidecar (reviews): its inbound chains take `mode`; the original destination follows `dst`. */
export async function serverSidecar(
  mode: Mode | undefined,
  opts: {
    cert?: WorkloadCertificate | undefined
    dst?: () => Destination
    edit?: (c: StaticConfig) => void
  } = {},
) {
  const certs = new CertificateStore()
  const cert = 'cert' in opts ? opts.cert : await certFor('bookinfo-reviews')
  if (cert) certs.set(cert)
  const config = sidecarConfig({ reviews: [], db: 1, app: app.port })
  const inbound = config.listeners!.find((l) => l.name === 'virtualInbound')!
  if (mode) {
    for (const c of inbound.filterChains) c.mtls = { mode }
    inbound.defaultFilterChain!.mtls = { mode }
  }
  opts.edit?.(config)
  const proxy = await startTestProxy(config, {
    certificates: certs,
    originalDestination: opts.dst ?? (() => ({ address: POD_IP, port: 9080 })),
    identity: { workload: 'reviews-v2', namespace: 'default', labels: { app: 'reviews', version: 'v2' } },
  })
  return { proxy, certs, port: proxy.ports.listeners.virtualInbound! }
}

/** The client sidecar (productpage): reviews endpoints as given, the reviews cluster changed by `cluster`. */
export async function clientSidecar(
  endpoints: Partial<LbEndpoint>[],
  opts: {
    cert?: WorkloadCertificate | undefined
    cluster?: Partial<Cluster>
    edit?: (c: StaticConfig) => void
    dst?: () => Destination
  } = {},
) {
  const certs = new CertificateStore()
  const cert = 'cert' in opts ? opts.cert : await certFor('bookinfo-productpage')
  if (cert) certs.set(cert)
  const config = sidecarConfig({ reviews: [], db: 1, app: 1 })
  const cla = config.endpoints!.find((e) => e.clusterName === REVIEWS)!
  cla.endpoints = endpoints.map((e) => ({
    address: '127.0.0.1',
    port: 1,
    health: 'HEALTHY',
    labels: { app: 'reviews', version: 'v2' },
    workload: 'reviews-v2',
    namespace: 'default',
    serviceAccount: 'bookinfo-reviews',
    ...e,
  }))
  const c = config.clusters!.find((x) => x.name === REVIEWS)!
  Object.assign(c, opts.cluster ?? {})
  opts.edit?.(config)
  const proxy = await startTestProxy(config, {
    certificates: certs,
    originalDestination: opts.dst ?? (() => ({ address: REVIEWS_IP, port: 9080 })),
    identity: {
      workload: 'productpage-v1',
      namespace: 'default',
      labels: { app: 'productpage', version: 'v1' },
    },
  })
  return { proxy, certs }
}

/** Makes the test mesh CA and the server's app before the file's tests, and closes the app after. */
export function useMtlsMesh(): void {
  beforeAll(async () => {
    ca = await createTestMeshCa({ intermediate: true })
    app = await startUpstream('reviews-app')
  })
  afterAll(async () => {
    await app.close()
  })
}
