/**
 * Resource status on a real Kubernetes (kube/cluster.sh): meshd writes each mesh resource's
 * outcome to its status subresource, read back here through the API server and through `meshctl
 * get`; `meshctl apply` warns for a rejected one; a fix is Accepted at its new generation; and
 * writing status settles (no write loop). Runs after kube-global-setup.ts (`meshctl install`
 * done); leaves nothing behind (its own namespace is deleted).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { type RequestOptions, request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Kube, type KubeObject, waitUntil } from '@minimesh/cli'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { KubeDriver } from '../drivers/kube.ts'
import { kubeClusterTarget, meshctlOn } from '../kube-cluster.ts'

const NS = 'e2e-status'
const target = kubeClusterTarget()
const dir = mkdtempSync(join(tmpdir(), 'mm-e2e-status-'))
let kube: Kube

// biome-ignore lint/suspicious/noExplicitAny: statuses read loosely, as a client would
type Any = any

const service: KubeObject = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: NS },
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 8080 }] },
}
const rule: KubeObject = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: { name: 'web', namespace: NS },
  spec: { host: 'web', subsets: [{ name: 'v1', labels: { version: 'v1' } }] },
}
const route = (subset: string, timeout?: string): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name: 'web', namespace: NS },
  spec: {
    hosts: ['web'],
    http: [{ route: [{ destination: { host: 'web', subset } }], ...(timeout ? { timeout } : {}) }],
  },
})
const vsRef = { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', name: 'web', namespace: NS }

function file(name: string, objects: KubeObject[]): string {
  const path = join(dir, name)
  writeFileSync(path, objects.map((o) => stringify(o)).join('---\n'))
  return path
}

async function meshdSnapshot(): Promise<number> {
  const text = await kube.serviceProxyGet('minimesh-system', 'meshd', 15014, '/debug/configz')
  return ((typeof text === 'string' ? JSON.parse(text) : text) as { snapshot: { version: number } }).snapshot
    .version
}

/** Writes the VirtualService's status as another client would (a merge patch of the status subresource). */
async function overwriteStatus(status: unknown): Promise<void> {
  const server = kube.kc.getCurrentCluster()!.server
  const url = new URL(`/apis/networking.istio.io/v1/namespaces/${NS}/virtualservices/web/status`, server)
  const opts: RequestOptions = {
    method: 'PATCH',
    headers: { 'content-type': 'application/merge-patch+json' },
  }
  await kube.kc.applyToHTTPSOptions(opts)
  const code = await new Promise<number>((resolve, reject) => {
    const req = request(url, opts, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end(JSON.stringify({ status }))
  })
  if (code !== 200) throw new Error(`status patch answered HTTP ${code}`)
}

/** The VirtualService's status once it is about `generation`. */
async function statusAt(generation: number): Promise<{ status: Any; resourceVersion: string }> {
  let last: Any
  await waitUntil(
    `meshd to write the status of generation ${generation}`,
    async () => {
      last = await kube.read(vsRef)
      const observed = last?.status?.observedGeneration
      return {
        done: observed === generation,
        message: `observedGeneration ${observed ?? 'none'} (object at generation ${last?.metadata.generation})`,
      }
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  )
  return { status: last.status, resourceVersion: String(last.metadata.resourceVersion) }
}

beforeAll(async () => {
  const driver = new KubeDriver(target)
  kube = driver.kube
  await driver.setup()
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }, true, 'minimesh-e2e')
}, 300_000)

afterAll(async () => {
  await kube?.delete({ apiVersion: 'v1', kind: 'Namespace', name: NS })
  rmSync(dir, { recursive: true, force: true })
}, 120_000)

describe('resource status written back on a real Kubernetes (kube/cluster.sh)', () => {
  it('a good VirtualService: meshctl apply says nothing more; its status says Accepted at generation 1', async () => {
    const r = await meshctlOn(target, ['apply', '-f', file('base.yaml', [service, rule, route('v1')])])
    expect(r.code, r.output).toBe(0)
    expect(r.stdout).toBe('service/web created\ndestinationrule/web created\nvirtualservice/web created\n')
    expect(r.stderr).toBe('')
    const { status } = await statusAt(1)
    expect(status.conditions).toEqual([
      expect.objectContaining({
        type: 'Reconciled',
        status: 'True',
        reason: 'Accepted',
        observedGeneration: 1,
      }),
    ])
    const dr = (await kube.read({ ...vsRef, kind: 'DestinationRule' }))?.status as Any
    expect(dr?.conditions?.[0]?.reason).toBe('Accepted')
  })

  it('an undefined subset: apply warns; status says Rejected, why, and that generation 1 serves; meshctl get shows it', async () => {
    const r = await meshctlOn(target, ['apply', '-f', file('v9.yaml', [route('v9')])])
    expect(r.code, r.output).toBe(0)
    expect(r.stdout).toBe('virtualservice/web configured\n')
    expect(r.stderr).toMatch(
      /^Warning: virtualservice\/web -n e2e-status rejected by meshd: spec\.http\[0\]\.route\[0\]\.destination\.subset: subset "v9" is not defined by DestinationRule e2e-status\/web, which defines v1; serving generation 1\n$/,
    )
    // Through the API server: the status subresource as meshd wrote it.
    const { status } = await statusAt(2)
    expect(status.conditions).toHaveLength(1)
    expect(status.conditions[0]).toMatchObject({
      type: 'Reconciled',
      status: 'False',
      reason: 'RejectedServingPrevious',
      observedGeneration: 2,
    })
    expect(status.conditions[0].message).toMatch(
      /^Rejected: .*subset "v9" is not defined.*; serving generation 1$/,
    )
    expect(Date.parse(status.conditions[0].lastTransitionTime)).toBeGreaterThan(0)
    expect(status.servingGeneration).toBe(1)
    expect(status.validationMessages).toEqual([
      expect.objectContaining({
        type: { code: 'MESH_ERR_API_UNKNOWN_SUBSET', name: 'UnknownSubset' },
        level: 'ERROR',
      }),
    ])
    // Through meshctl get, as a user reads it.
    const get = await meshctlOn(target, ['get', 'vs', 'web', '-n', NS])
    expect(get.code, get.output).toBe(0)
    expect(get.stdout).toMatch(
      /^NAME +AGE +STATUS\nweb +\S+ +Rejected: spec\.http\[0\]\.route\[0\]\.destination\.subset: subset "v9" is not defined by DestinationRule e2e-status\/web, which defines v1; serving generation 1\n$/,
    )
  })

  it('status written over by someone else is restored; neither write makes meshd rebuild; then it settles', async () => {
    const { status: mine } = await statusAt(2)
    await new Promise((r) => setTimeout(r, 1000))
    const snapshot = await meshdSnapshot()
    await overwriteStatus({
      observedGeneration: 2,
      conditions: [{ type: 'Reconciled', status: 'True', reason: 'Fake', message: 'fake' }],
    })
    let restored: Any
    await waitUntil(
      'meshd to write its verdict back',
      async () => {
        restored = await kube.read(vsRef)
        const reason = restored?.status?.conditions?.[0]?.reason
        return { done: reason === 'RejectedServingPrevious', message: `reason ${reason}` }
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    )
    expect(restored.status.conditions[0].message).toBe(mine.conditions[0].message)
    // Two status-only updates (the overwrite and meshd's own write), no rebuild for either.
    expect(await meshdSnapshot(), 'meshd rebuilt for a status-only update').toBe(snapshot)
    const rv = String(restored.metadata.resourceVersion)
    await new Promise((r) => setTimeout(r, 5000))
    expect(String((await kube.read(vsRef))?.metadata.resourceVersion), 'meshd kept writing status').toBe(rv)
  })

  it('fixed: Accepted at the new observedGeneration, through the API server and meshctl get', async () => {
    const r = await meshctlOn(target, ['apply', '-f', file('fixed.yaml', [route('v1', '5s')]), '--wait'])
    expect(r.code, r.output).toBe(0)
    expect(r.stdout).toMatch(
      /^virtualservice\/web configured\nsynced: \d+ prox(y has|ies have) ACKed snapshot \d+/,
    )
    expect(r.stderr.replace(/^ {2}waiting: .*\n/gm, '')).toBe('')
    const { status } = await statusAt(3)
    expect(status.conditions[0]).toMatchObject({
      status: 'True',
      reason: 'Accepted',
      message: 'Accepted (generation 3)',
    })
    expect(status.servingGeneration).toBeUndefined()
    expect(status.validationMessages).toBeUndefined()
    const get = await meshctlOn(target, ['get', 'vs', '-n', NS])
    expect(get.stdout).toMatch(/^NAME +AGE +STATUS\nweb +\S+ +Accepted \(generation 3\)\n$/)
    // wait --for=sync is satisfied although meshd's status write moved the resourceVersion on
    // (it exits 1 only for rejected resources, which other scenarios may have left elsewhere).
    const sync = await meshctlOn(target, ['wait', '--for=sync', '--timeout', '60s'])
    expect(sync.stdout, sync.output).toMatch(/^synced: /)
    expect(sync.stderr).not.toMatch(/e2e-status/)
  })
})
