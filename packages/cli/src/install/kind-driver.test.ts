// The Kubernetes e2e driver (e2e/src/drivers/kube.ts) with kind's target, against the fake API server: what it can do
// without a cluster (apply, delete, pods, waitReady, restartControlPlane, gatewayUrl). exec, logs
// and the service proxy need a real API server (WebSocket, proxy subresource) and run under `pnpm e2e`.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { repoRoot } from './kind.ts'
import { type FakeApiServer, startFakeApiServer } from './testdata/fake-apiserver.ts'

interface Driver {
  name: string
  apply(yaml: string, namespace?: string): Promise<void>
  delete(yaml: string, namespace?: string): Promise<void>
  pods(namespace: string, selector: string): Promise<{ namespace: string; name: string }[]>
  waitReady(namespace: string, selector: string, timeoutMs?: number): Promise<void>
  gatewayUrl(): Promise<string>
  restartControlPlane(): Promise<void>
  setup(): Promise<void>
}

describe('KubeDriver (kind)', () => {
  let fake: FakeApiServer
  let driver: Driver
  const saved = { KUBECONFIG: process.env.KUBECONFIG }
  beforeAll(async () => {
    fake = await startFakeApiServer()
    const file = join(mkdtempSync(join(tmpdir(), 'kind-driver-')), 'config')
    writeFileSync(file, fake.kubeconfig('kind-minimesh'))
    process.env.KUBECONFIG = file
    // Loaded by path: the driver lives in the e2e workspace, outside this package's sources.
    const mod = (await import(pathToFileURL(join(repoRoot(), 'e2e/src/drivers/kube.ts')).href)) as {
      KubeDriver: new () => Driver
    }
    driver = new mod.KubeDriver()
  })
  afterAll(async () => {
    if (saved.KUBECONFIG === undefined) delete process.env.KUBECONFIG
    else process.env.KUBECONFIG = saved.KUBECONFIG
    await fake.close()
  })

  const yaml = [
    'apiVersion: v1\nkind: Service\nmetadata: {name: ratings}\nspec: {ports: [{port: 9080}]}',
    'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: ratings}\nspec: {hosts: [ratings]}',
  ].join('\n---\n')

  it('applies into the namespace as field manager minimesh-e2e (never meshctl)', async () => {
    expect(driver.name).toBe('kind')
    await driver.apply(yaml, 'default')
    const patches = fake.requests.filter((r) => r.method === 'PATCH')
    expect(patches.map((p) => p.target)).toEqual([
      'Service default/ratings',
      'VirtualService default/ratings',
    ])
    expect(patches.every((p) => p.query.fieldManager === 'minimesh-e2e')).toBe(true)
  })

  it('deletes what the YAML names, in reverse, and objects already gone are fine', async () => {
    fake.requests.length = 0
    await driver.delete(yaml, 'default')
    await driver.delete(yaml, 'default')
    expect(fake.requests.filter((r) => r.method === 'DELETE').map((r) => r.target)).toEqual([
      'VirtualService default/ratings',
      'Service default/ratings',
      'VirtualService default/ratings',
      'Service default/ratings',
    ])
  })

  it('lists live pods by selector and waits until they are ready', async () => {
    const pod = (name: string, ready: boolean, extra: Record<string, unknown> = {}) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default', labels: { app: 'reviews' }, ...extra },
      status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
    })
    fake.seed(pod('reviews-v2-b', true))
    fake.seed(pod('reviews-v1-a', true))
    fake.seed(pod('reviews-v3-old', false, { deletionTimestamp: '2026-01-01T00:00:00Z' }))
    expect(await driver.pods('default', 'app=reviews')).toEqual([
      { namespace: 'default', name: 'reviews-v1-a' },
      { namespace: 'default', name: 'reviews-v2-b' },
    ])
    await driver.waitReady('default', 'app=reviews', 5000)
    fake.seed(pod('reviews-v2-c', false))
    await expect(driver.waitReady('default', 'app=reviews', 1500)).rejects.toThrow(/2 of 3 pods ready/)
  })

  it('setup labels default for injection without touching other fields; restart rolls meshd', async () => {
    fake.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } })
    fake.seed({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'meshd-1', namespace: 'minimesh-system', labels: { app: 'meshd' } },
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    })
    await driver.setup()
    const ns = [...fake.objects.values()].find((o) => o.kind === 'Namespace' && o.metadata.name === 'default')
    expect(ns?.metadata.labels).toEqual({ 'minimesh-injection': 'enabled' })
    fake.requests.length = 0
    await driver.restartControlPlane()
    const patch = fake.requests.find((r) => r.method === 'PATCH')
    expect(patch).toMatchObject({
      target: 'Deployment minimesh-system/meshd',
      query: { fieldManager: 'minimesh-e2e' },
    })
    expect(await driver.gatewayUrl()).toBe('http://127.0.0.1:8080')
  })
})
