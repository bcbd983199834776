// Resource status written back: meshd against a FAKE API server (testdata/fake-apiserver.ts: real
// HTTP, list/watch and the status subresource's JSON patch; a real API server runs only in the
// Kubernetes e2e), and the reporter's retry with a recording writer.

import type { KubeObject } from '@minimesh/api/kube'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type Meshd, startMeshd } from '../meshd.ts'
import { SnapshotBuilder } from '../snapshot.ts'
import { ConfigStore } from '../store.ts'
import { FakeApiServer } from '../testdata/fake-apiserver.ts'
import { KubernetesStatusWriter } from './kubernetes.ts'
import { StatusReporter, type StatusTarget, type StatusWriter } from './reporter.ts'

const service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'reviews', namespace: 'default' },
  spec: { clusterIP: '10.96.0.9', selector: { app: 'reviews' }, ports: [{ name: 'http', port: 9080 }] },
}
const rule = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: { name: 'reviews', namespace: 'default' },
  spec: { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }] },
}
const route = (subset: string) => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name: 'reviews', namespace: 'default' },
  spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset } }] }] },
})

// biome-ignore lint/suspicious/noExplicitAny: statuses read loosely, as a client would
type Any = any
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
async function until<T>(what: string, fn: () => T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = fn()
    if (v !== undefined && v !== false) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

const VS_STATUS = '/apis/networking.istio.io/v1/namespaces/default/virtualservices/reviews/status'
const DR_STATUS = '/apis/networking.istio.io/v1/namespaces/default/destinationrules/reviews/status'

describe('meshd writes each mesh resource outcome to its status (fake API server)', () => {
  const api = new FakeApiServer()
  let meshd: Meshd | undefined
  const vsStatus = (): Any =>
    api.get('networking.istio.io/v1', 'VirtualService', 'default', 'reviews')?.status
  const writesTo = (path: string) => api.writes.filter((w) => w.path === path).length
  const start = () =>
    startMeshd({
      kubeConfig: api.kubeConfig(),
      grpcAddress: '127.0.0.1:0',
      monitoringAddress: '127.0.0.1:0',
      webhookAddress: '127.0.0.1:0',
      logger: pino({ level: 'silent' }),
      processMetrics: false,
      debounce: { quietMs: 20, maxMs: 200 },
    })

  beforeAll(async () => {
    await api.start()
    api.put(service)
    api.put(rule)
    api.put(route('v1'))
    meshd = await start()
  })
  afterAll(async () => {
    await meshd?.close()
    await api.close()
  })

  it('writes Accepted with observedGeneration, once, through the status subresource as a JSON patch', async () => {
    const st = await until('the VirtualService status', () => vsStatus()?.conditions && vsStatus())
    expect(st).toMatchObject({
      observedGeneration: 1,
      conditions: [
        {
          type: 'Reconciled',
          status: 'True',
          reason: 'Accepted',
          message: 'Accepted (generation 1)',
          observedGeneration: 1,
        },
      ],
    })
    expect(Date.parse(st.conditions[0].lastTransitionTime)).toBeGreaterThan(0)
    expect(st.validationMessages).toBeUndefined()
    await until('the DestinationRule status', () => writesTo(DR_STATUS) === 1)
    const write = api.writes.find((w) => w.path === VS_STATUS)!
    expect(write.contentType).toBe('application/json-patch+json')
    expect(write.body).toEqual([{ op: 'add', path: '/status', value: st }])
  })

  it('a rejected version: Reconciled False, why, the generation that serves, validationMessages in Istio shape', async () => {
    api.put(route('v9'))
    const st = await until('the rejection', () => vsStatus()?.observedGeneration === 2 && vsStatus())
    expect(st.conditions).toHaveLength(1)
    expect(st.conditions[0]).toMatchObject({
      type: 'Reconciled',
      status: 'False',
      reason: 'RejectedServingPrevious',
      observedGeneration: 2,
    })
    expect(st.conditions[0].message).toMatch(
      /^Rejected: spec\.http\[0\]\.route\[0\]\.destination\.subset: subset "v9" is not defined by DestinationRule default\/reviews, which defines v1; serving generation 1$/,
    )
    expect(st.servingGeneration).toBe(1)
    expect(st.validationMessages).toEqual([
      {
        type: { code: 'MESH_ERR_API_UNKNOWN_SUBSET', name: 'UnknownSubset' },
        level: 'ERROR',
        message: expect.stringMatching(/^spec\.http\[0\]\.route\[0\]\.destination\.subset: subset "v9"/),
      },
    ])
  })

  it('reading its own write back neither rebuilds nor writes again (no resync loop, no write storm)', async () => {
    await until('the rejection to be written', () => vsStatus()?.observedGeneration === 2)
    const snapshot = meshd!.snapshot!.version
    const vsWrites = writesTo(VS_STATUS)
    const drWrites = writesTo(DR_STATUS)
    // The read-back arrives over the watch within milliseconds; wait many debounce periods.
    await sleep(600)
    await meshd!.status!.idle()
    expect(meshd!.snapshot!.version).toBe(snapshot)
    expect(writesTo(VS_STATUS)).toBe(vsWrites)
    expect(writesTo(DR_STATUS)).toBe(drWrites)
    // Over the whole test so far: one write per verdict (accepted, rejected) and one for the rule.
    expect(vsWrites).toBe(2)
    expect(drWrites).toBe(1)
    // A change elsewhere rebuilds; the verdicts stay, so nothing is written.
    api.put({ ...service, metadata: { ...service.metadata, labels: { team: 'x' } } })
    await until('a rebuild', () => meshd!.snapshot!.version > snapshot)
    await meshd!.status!.idle()
    expect(api.writes).toHaveLength(vsWrites + drWrites)
  })

  it('a status someone else wrote over is written back once, still without a rebuild', async () => {
    await meshd!.status!.idle()
    const snapshot = meshd!.snapshot!.version
    const writes = writesTo(VS_STATUS)
    const mine = vsStatus()
    api.setStatus('networking.istio.io/v1', 'VirtualService', 'default', 'reviews', { conditions: [] })
    await until('meshd to restore the status', () => vsStatus()?.observedGeneration === 2)
    await sleep(300)
    await meshd!.status!.idle()
    const { lastTransitionTime: _t, ...condition } = mine.conditions[0]
    expect(vsStatus()).toEqual({
      ...mine,
      conditions: [{ ...condition, lastTransitionTime: expect.any(String) }],
    })
    expect(writesTo(VS_STATUS)).toBe(writes + 1)
    expect(meshd!.snapshot!.version).toBe(snapshot)
  })

  it('fixed: Accepted at the new generation, a new transition time, no servingGeneration', async () => {
    const rejectedAt = vsStatus().conditions[0].lastTransitionTime
    await sleep(5) // a later millisecond for the transition
    api.put(route('v1'))
    const st = await until('the fix', () => vsStatus()?.observedGeneration === 3 && vsStatus())
    expect(st.conditions[0]).toMatchObject({
      status: 'True',
      reason: 'Accepted',
      message: 'Accepted (generation 3)',
    })
    expect(st.conditions[0].lastTransitionTime).not.toBe(rejectedAt)
    expect(st.servingGeneration).toBeUndefined()
    expect(st.validationMessages).toBeUndefined()
  })

  it('a restarted meshd finds every status as it would write it and writes nothing', async () => {
    await meshd!.status!.idle()
    const before = api.writes.length
    await meshd!.close()
    meshd = await start()
    await meshd.status!.idle()
    await sleep(300)
    expect(api.writes).toHaveLength(before)
  })

  it('a re-created resource (new uid) with the same verdict gets its status again', async () => {
    const before = writesTo(DR_STATUS)
    api.delete(rule)
    await until(
      'meshd to see the deletion',
      () => !meshd!.snapshot!.status.some((s) => s.kind === 'DestinationRule'),
    )
    api.put(rule)
    await until(
      'the new rule status',
      () => api.get('networking.istio.io/v1', 'DestinationRule', 'default', 'reviews')?.status,
    )
    expect(writesTo(DR_STATUS)).toBe(before + 1)
  })
})

describe('KubernetesStatusWriter', () => {
  const api = new FakeApiServer()
  beforeAll(() => api.start())
  afterAll(() => api.close())
  const target = (name: string): StatusTarget => ({
    key: `networking.istio.io/VirtualService/default/${name}`,
    group: 'networking.istio.io',
    kind: 'VirtualService',
    namespace: 'default',
    name,
  })
  const status = { observedGeneration: 1, conditions: [] }

  it('an object that is gone is "gone", not an error', async () => {
    expect(await new KubernetesStatusWriter(api.kubeConfig()).write(target('nope'), status)).toBe('gone')
  })

  it('a refusal names the object and, for 403, the RBAC meshd needs', async () => {
    api.put(route('v1'))
    api.failStatusWrites = 403
    const err = await new KubernetesStatusWriter(api.kubeConfig())
      .write(target('reviews'), status)
      .catch((e) => e)
    api.failStatusWrites = undefined
    expect(err.code).toBe('MESH_ERR_MESHD_STATUS')
    expect(err.message).toMatch(
      /^cannot write the status of VirtualService default\/reviews \(HTTP 403\): .*meshd's ClusterRole needs patch on virtualservices\/status in networking\.istio\.io/,
    )
  })
})

/** A StatusWriter that records and fails the first `failures` writes (the reporter's edge, recorded). */
class RecordingWriter implements StatusWriter {
  readonly written: { target: StatusTarget; status: Any }[] = []
  private failures: number
  private readonly store: ConfigStore
  /** How the "server" keeps a status (identity: as written). */
  private readonly keep: (status: Any) => Any
  constructor(failures: number, store: ConfigStore, keep: (status: Any) => Any = (s) => s) {
    this.failures = failures
    this.store = store
    this.keep = keep
  }
  async write(target: StatusTarget, status: Any): Promise<'written' | 'gone'> {
    await sleep(1) // a round trip: a write loop shows as many writes, not as a stalled event loop
    if (this.written.length >= 10) throw new Error('write loop: 10 writes already')
    if (this.failures-- > 0) throw new Error('connection refused')
    this.written.push({ target, status })
    // Read back as the API server's watch would deliver it: the status, a new resourceVersion.
    const cur = this.store.get(target.key)!.object
    const rv = String(Number(cur.metadata.resourceVersion ?? 0) + 1)
    this.store.upsert(
      { ...cur, status: this.keep(status), metadata: { ...cur.metadata, resourceVersion: rv } },
      'k8s',
    )
    return 'written'
  }
}

/** A store holding the Service and the DestinationRule as read from Kubernetes. */
function storeWithRule(): ConfigStore {
  const store = new ConfigStore()
  store.upsert({ ...(service as KubeObject), metadata: { ...service.metadata, resourceVersion: '1' } }, 'k8s')
  store.upsert(
    {
      ...(rule as KubeObject),
      metadata: { ...rule.metadata, resourceVersion: '2', generation: 1, uid: 'a' },
    },
    'k8s',
  )
  return store
}

describe('StatusReporter', () => {
  let reporter: StatusReporter | undefined
  afterEach(() => reporter?.close())

  it('retries a failed write with backoff until it lands, then writes nothing more', async () => {
    const store = storeWithRule()
    const builder = new SnapshotBuilder()
    const writer = new RecordingWriter(2, store)
    reporter = new StatusReporter(writer, store, { retry: { initialMs: 10, maxMs: 40 } })
    let rebuilds = 0
    store.onChange(() => rebuilds++)
    store.onStatusChange((key) => reporter!.recheck(key))
    reporter.update(builder.build(store))
    await reporter.idle()
    expect(writer.written.map((w) => w.status.conditions[0].reason)).toEqual(['Accepted'])
    expect(rebuilds).toBe(0) // the read-back was a status-only update
    // This writer's read-back arrives before its write returns (as a real API server's watch
    // event can): the write still counts as read back, so someone else's status is written over,
    // with no rebuild in between to notice.
    const key = 'networking.istio.io/DestinationRule/default/reviews'
    const cur = store.get(key)!.object
    store.upsert(
      { ...cur, status: { conditions: [] }, metadata: { ...cur.metadata, resourceVersion: '99' } },
      'k8s',
    )
    await reporter.idle()
    expect(writer.written).toHaveLength(2)
    // A rebuild with the same verdicts writes nothing more.
    reporter.update(builder.build(store))
    await reporter.idle()
    expect(writer.written).toHaveLength(2)
    expect(rebuilds).toBe(0)
  })
})

describe('StatusReporter and an object the server no longer has', () => {
  it('"gone" (404 before the deletion reaches the watch) is not retried', async () => {
    const store = storeWithRule()
    let writes = 0
    const reporter = new StatusReporter(
      {
        write: async () => {
          writes++
          await sleep(1)
          return 'gone' as const
        },
      },
      store,
    )
    reporter.update(new SnapshotBuilder().build(store))
    await reporter.idle()
    await sleep(50)
    expect(writes).toBe(1)
    reporter.close()
  })
})

describe('StatusReporter against a server that keeps status in another form', () => {
  it('writes once and does not chase the difference (no write loop)', async () => {
    const store = storeWithRule()
    const builder = new SnapshotBuilder()
    // A server that drops a field meshd writes (as a structural schema without it would prune it).
    const writer = new RecordingWriter(0, store, ({ observedGeneration: _dropped, ...rest }) => rest)
    const reporter = new StatusReporter(writer, store)
    store.onStatusChange((key) => reporter.recheck(key))
    for (let i = 0; i < 3; i++) {
      reporter.update(builder.build(store))
      await reporter.idle()
    }
    expect(writer.written).toHaveLength(1)
    reporter.close()
  })
})

describe('ConfigStore', () => {
  const vs = (rv: string, extra: Partial<KubeObject> = {}): KubeObject => ({
    ...(route('v1') as KubeObject),
    metadata: { name: 'reviews', namespace: 'default', resourceVersion: rv, generation: 1 },
    ...extra,
  })

  it('an update of only status and resourceVersion is no change; anything else is', () => {
    const store = new ConfigStore()
    const changes: string[] = []
    const statusChanges: string[] = []
    store.onChange((k) => changes.push(k))
    store.onStatusChange((k) => statusChanges.push(k))
    store.upsert(vs('1'), 'k8s')
    store.upsert(vs('2', { status: { observedGeneration: 1 } }), 'k8s')
    expect(changes).toHaveLength(1)
    expect(statusChanges).toEqual(['networking.istio.io/VirtualService/default/reviews'])
    expect(store.get(statusChanges[0]!)?.object.metadata.resourceVersion).toBe('2')
    store.upsert(vs('3', { status: { observedGeneration: 1 }, spec: route('v2').spec }), 'k8s')
    store.upsert({ ...vs('4'), metadata: { ...vs('4').metadata, labels: { a: 'b' } } }, 'k8s')
    expect(changes).toHaveLength(3)
    expect(statusChanges).toHaveLength(1)
  })
})
