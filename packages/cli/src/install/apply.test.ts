import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { KubeObject } from '@minimesh/api/kube'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { applyOrder, deleteOrder, installObjects, ownedByMinimesh, uninstallObjects } from './apply.ts'
import { InstallError } from './errors.ts'
import { Kube } from './kube.ts'
import { type FakeApiServer, type RecordedRequest, startFakeApiServer } from './testdata/fake-apiserver.ts'

const NS = 'minimesh-system'
const crd = (name: string, labels?: Record<string, string>): KubeObject => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name, ...(labels ? { labels } : {}) },
  spec: {},
})
const deployment = (name: string, image: string): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: NS },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image }] } },
  },
})

/** The shape of minimesh's install set (the real generator's output is tested in manifests.test.ts). */
function installSet(): KubeObject[] {
  return [
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: 'minimesh-sidecar-injector' },
    },
    deployment('minimesh-ingressgateway', 'minimesh/proxy:0.1.0'),
    deployment('meshd', 'minimesh/meshd:0.1.0'),
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'meshd', namespace: NS } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    crd('virtualservices.networking.istio.io'),
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'meshd' } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'meshd', namespace: NS } },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: 'minimesh-validator' },
    },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'meshd-webhook-certs', namespace: NS } },
  ]
}

describe('order', () => {
  it('applies CRDs, namespace, identities, config, workloads, then webhooks; deletes in reverse', () => {
    const kinds = applyOrder(installSet()).map((o) => o.kind)
    expect(kinds).toEqual([
      'CustomResourceDefinition',
      'Namespace',
      'ServiceAccount',
      'ClusterRole',
      'Secret',
      'Service',
      'Deployment',
      'Deployment',
      'MutatingWebhookConfiguration',
      'ValidatingWebhookConfiguration',
    ])
    expect(deleteOrder(installSet()).map((o) => o.kind)).toEqual([...kinds].reverse())
  })
})

describe('ownedByMinimesh', () => {
  it('recognises our labels or meshctl as a field manager, nothing else', () => {
    expect(ownedByMinimesh(crd('a', { 'app.kubernetes.io/part-of': 'minimesh' }))).toBe(true)
    const applied = crd('a')
    applied.metadata.managedFields = [{ manager: 'meshctl', operation: 'Apply' }]
    expect(ownedByMinimesh(applied)).toBe(true)
    expect(ownedByMinimesh(crd('a', { 'app.kubernetes.io/part-of': 'istio' }))).toBe(false)
    expect(ownedByMinimesh(crd('a'))).toBe(false)
  })
})

describe('install and uninstall against an API server', () => {
  let fake: FakeApiServer
  let kube: Kube
  let lines: string[]
  const options = () => ({
    progress: (l: string) => lines.push(l),
    timeoutMs: 2000,
    intervalMs: 5,
    context: 'kind-minimesh',
  })

  async function start(stuck?: string[]) {
    fake = await startFakeApiServer(stuck ? { stuck } : {})
    const dir = mkdtempSync(join(tmpdir(), 'meshctl-apply-'))
    writeFileSync(join(dir, 'config'), fake.kubeconfig('kind-minimesh'))
    kube = Kube.connect({ kubeconfig: join(dir, 'config') })
  }
  beforeEach(() => {
    lines = []
  })
  afterEach(async () => {
    await fake.close()
  })

  it('applies everything as meshctl, waits for meshd before the webhooks, then for the gateway', async () => {
    await start()
    await installObjects(kube, installSet(), options())
    const patches = fake.requests.filter((r) => r.method === 'PATCH')
    expect(patches.every((p) => p.query.fieldManager === 'meshctl' && p.query.force === 'true')).toBe(true)
    const targets = patches.map((p) => p.target)
    expect(targets[0]).toBe('CustomResourceDefinition virtualservices.networking.istio.io')
    // The gateway after the webhooks: its pods must go through the injector (gateway template).
    expect(targets.slice(-3)).toEqual([
      'MutatingWebhookConfiguration minimesh-sidecar-injector',
      'ValidatingWebhookConfiguration minimesh-validator',
      `Deployment ${NS}/minimesh-ingressgateway`,
    ])
    // meshd's rollout was read before the first webhook configuration was applied, the gateway's after.
    const index = (pred: (r: RecordedRequest) => boolean) => fake.requests.findIndex(pred)
    const meshdRead = index((r) => r.method === 'GET' && r.target === `Deployment ${NS}/meshd`)
    const firstWebhook = index(
      (r) => r.method === 'PATCH' && r.target?.startsWith('MutatingWebhookConfiguration') === true,
    )
    const gatewayRead = index(
      (r) => r.method === 'GET' && r.target === `Deployment ${NS}/minimesh-ingressgateway`,
    )
    expect(meshdRead).toBeGreaterThan(-1)
    expect(meshdRead).toBeLessThan(firstWebhook)
    expect(gatewayRead).toBeGreaterThan(firstWebhook)
    expect(lines).toContain('  deployment "meshd" successfully rolled out')
    expect(lines).toContain('  deployment "minimesh-ingressgateway" successfully rolled out')
  })

  it('deletes gateway pods admitted without the injector (no status annotation) so they are made again', async () => {
    await start()
    const set = installSet()
    const gw = set.find((o) => o.metadata.name === 'minimesh-ingressgateway')!
    const tpl = (gw.spec as { template: { metadata: { labels: Record<string, string> } } }).template
    tpl.metadata.labels['sidecar.minimesh.dev/template'] = 'gateway'
    const pod = (name: string, annotations?: Record<string, string>): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: NS,
        labels: { app: 'minimesh-ingressgateway' },
        ...(annotations ? { annotations } : {}),
      },
    })
    fake.seed(pod('minimesh-ingressgateway-old'))
    fake.seed(pod('minimesh-ingressgateway-ok', { 'sidecar.minimesh.dev/status': '{}' }))
    await installObjects(kube, set, options())
    const deletes = fake.requests.filter((r) => r.method === 'DELETE').map((r) => r.target)
    expect(deletes).toEqual([`Pod ${NS}/minimesh-ingressgateway-old`])
    expect(lines).toContain(
      `pod ${NS}/minimesh-ingressgateway-old was created without the injector (no mesh identity); deleting it so it is made again through the webhook`,
    )
  })

  it("refuses a CRD of the same name that is not minimesh's (Istio's), naming it and how to resolve", async () => {
    await start()
    const istio = crd('virtualservices.networking.istio.io', {
      'app.kubernetes.io/part-of': 'istio',
      release: 'istio-base',
    })
    istio.metadata.annotations = {
      'meta.helm.sh/release-name': 'istio-base',
      'meta.helm.sh/release-namespace': 'istio-system',
    }
    fake.seed(istio)
    const err = await installObjects(kube, installSet(), options()).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InstallError)
    expect((err as InstallError).code).toBe('MESH_ERR_INSTALL_CRD_CONFLICT')
    const msg = (err as InstallError).message
    expect(msg).toContain('virtualservices.networking.istio.io (Helm release "istio-base" in istio-system')
    expect(msg).toContain('label app.kubernetes.io/part-of=istio')
    expect(msg).toContain('istioctl uninstall --purge')
    expect(msg).toContain('--take-over-crds')
    expect(fake.requests.some((r) => r.method === 'PATCH')).toBe(false)
  })

  it('--take-over-crds applies over them', async () => {
    await start()
    fake.seed(crd('virtualservices.networking.istio.io', { 'app.kubernetes.io/part-of': 'istio' }))
    await installObjects(kube, installSet(), { ...options(), takeOverCrds: true })
    expect(lines[0]).toContain('taking over 1 CustomResourceDefinitions')
  })

  it('re-installing over our own objects is fine', async () => {
    await start()
    await installObjects(kube, installSet(), options())
    await installObjects(kube, installSet(), options())
    expect(fake.requests.filter((r) => r.method === 'PATCH')).toHaveLength(20)
  })

  it('a pod whose image is not on the node fails the wait at once, saying how to load the image', async () => {
    await start(['meshd'])
    const err = await installObjects(kube, installSet(), { ...options(), timeoutMs: 60_000 }).catch(
      (e: unknown) => e,
    )
    expect((err as InstallError).code).toBe('MESH_ERR_INSTALL_TIMEOUT')
    expect((err as InstallError).message).toContain('ErrImageNeverPull')
    expect((err as InstallError).message).toContain(
      'kind load docker-image --name minimesh minimesh/meshd:0.1.0',
    )
    // The webhooks were not applied: nothing would answer them.
    expect(
      fake.requests.some((r) => r.target?.startsWith('MutatingWebhookConfiguration') && r.method === 'PATCH'),
    ).toBe(false)
  })

  it('uninstall deletes webhooks first and keeps the CRDs unless --purge', async () => {
    await start()
    await installObjects(kube, installSet(), options())
    fake.requests.length = 0
    await uninstallObjects(kube, installSet(), {
      progress: (l) => lines.push(l),
      timeoutMs: 2000,
      intervalMs: 5,
    })
    const deletes = fake.requests.filter((r) => r.method === 'DELETE').map((r) => r.target)
    expect(deletes[0]).toBe('ValidatingWebhookConfiguration minimesh-validator')
    expect(deletes).not.toContain('CustomResourceDefinition virtualservices.networking.istio.io')
    expect(lines).toContain(
      'kept the CustomResourceDefinitions and your routing resources (pass --purge to delete them too)',
    )
    expect(fake.objects.size).toBe(1) // the CRD
    await uninstallObjects(kube, installSet(), {
      progress: () => {},
      purge: true,
      timeoutMs: 2000,
      intervalMs: 5,
    })
    expect(fake.objects.size).toBe(0)
  })

  it('uninstall --purge keeps a CRD that someone else made', async () => {
    await start()
    fake.seed(crd('virtualservices.networking.istio.io', { 'app.kubernetes.io/part-of': 'istio' }))
    await uninstallObjects(kube, installSet(), {
      progress: (l) => lines.push(l),
      purge: true,
      timeoutMs: 2000,
      intervalMs: 5,
    })
    expect(fake.objects.size).toBe(1)
    expect(
      lines.some((l) =>
        l.startsWith(
          'kept CustomResourceDefinition virtualservices.networking.istio.io: not made by minimesh',
        ),
      ),
    ).toBe(true)
  })
})
