// Test helpers: Bookinfo fixtures into a store and snapshot, and the proxies the golden tests use.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { formatNodeId, loadYaml } from '@minimesh/api'
import { type ConfigSnapshot, SnapshotBuilder } from '../snapshot.ts'
import { isKubeObject } from '../sources/source.ts'
import { ConfigStore } from '../store.ts'
import { type ProxyInfo, proxyFromNode } from '../translate/proxy.ts'

export const BOOKINFO_DIR = fileURLToPath(new URL('./bookinfo/', import.meta.url))

/** Reads fixture files (relative to testdata/bookinfo) into a store, in order: later objects replace earlier ones. */
export function fixtureStore(files: readonly string[], store = new ConfigStore()): ConfigStore {
  for (const file of files) {
    const path = file.startsWith('/') ? file : `${BOOKINFO_DIR}${file}`
    const { objects, findings } = loadYaml(readFileSync(path, 'utf8'), path)
    if (findings.length) throw new Error(`${file}: ${findings.map((f) => f.message).join('; ')}`)
    for (const { object } of objects) {
      if (!isKubeObject(object)) throw new Error(`${file}: not an object with a name`)
      store.upsert(object, path)
    }
  }
  return store
}

export const PLATFORM = ['platform.yaml', 'bookinfo-gateway.yaml']

/** Platform + gateway + the given task files → a snapshot. */
export function bookinfoSnapshot(files: readonly string[] = []): ConfigSnapshot {
  return new SnapshotBuilder().build(fixtureStore([...PLATFORM, ...files]))
}

export function sidecar(
  pod: string,
  ip: string,
  labels: Record<string, string>,
  namespace = 'default',
): ProxyInfo {
  return proxyFromNode({ id: formatNodeId('sidecar', ip, pod, namespace), namespace, labels })
}

/** The proxies of the golden tests: a productpage sidecar, a reviews-v2 sidecar and the ingress gateway. */
export const PROXIES: Record<string, ProxyInfo> = {
  'productpage-sidecar': sidecar('productpage-v1-54bb874995-d5nrg', '198.18.0.16', {
    app: 'productpage',
    version: 'v1',
  }),
  'reviews-v2-sidecar': sidecar('reviews-v2-7d59c96f8b-k4hzj', '198.18.0.14', {
    app: 'reviews',
    version: 'v2',
  }),
  'ingress-router': proxyFromNode({
    id: formatNodeId('router', '198.18.0.2', 'minimesh-ingressgateway-5d8f7c9b4-w2xkq', 'minimesh-system'),
    namespace: 'minimesh-system',
    labels: { app: 'minimesh-ingressgateway', minimesh: 'ingressgateway' },
  }),
}

/** Istio's Bookinfo task configurations, applied in order as the tasks do. */
export const SCENARIOS: Record<string, readonly string[]> = {
  'no-rules': [],
  'peer-authentication': ['peer-authentication.yaml'],
  'destination-rule-all': ['destination-rule-all.yaml'],
  'virtual-service-all-v1': ['destination-rule-all.yaml', 'virtual-service-all-v1.yaml'],
  'reviews-test-v2': [
    'destination-rule-all.yaml',
    'virtual-service-all-v1.yaml',
    'virtual-service-reviews-test-v2.yaml',
  ],
  'reviews-90-10': [
    'destination-rule-all.yaml',
    'virtual-service-all-v1.yaml',
    'virtual-service-reviews-90-10.yaml',
  ],
  'reviews-50-v3': [
    'destination-rule-all.yaml',
    'virtual-service-all-v1.yaml',
    'virtual-service-reviews-50-v3.yaml',
  ],
  'ratings-test-delay': [
    'destination-rule-all.yaml',
    'virtual-service-all-v1.yaml',
    'virtual-service-reviews-test-v2.yaml',
    'virtual-service-ratings-test-delay.yaml',
  ],
  'ratings-test-abort': [
    'destination-rule-all.yaml',
    'virtual-service-all-v1.yaml',
    'virtual-service-reviews-test-v2.yaml',
    'virtual-service-ratings-test-abort.yaml',
  ],
  'reviews-timeout': [
    'destination-rule-all.yaml',
    'virtual-service-all-v1.yaml',
    'virtual-service-reviews-timeout.yaml',
  ],
  'circuit-breaker': ['destination-rule-circuit-breaker.yaml'],
  quota: ['quota-policy.yaml'],
  'tls-origination': ['destination-rule-tls.yaml'],
  authorization: ['authorization-policy.yaml'],
  'gateway-tls': ['gateway-tls.yaml'],
}
