/**
 * What only a real Kubernetes can show, on the single-node cluster of kube/cluster.sh (upstream
 * components built from source): meshctl install/uninstall against a real API server, the
 * injection webhook's namespace selector, the validation webhook called by the API server, and
 * meshd's informers across an API-server restart. Runs after kube-global-setup.ts (`meshctl
 * install` done); leaves minimesh installed as it found it.
 */
import { type Kube, type KubeObject, waitUntil } from '@minimesh/cli'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KubeDriver } from '../drivers/kube.ts'
import { kubeClusterTarget, meshctlOn, runKubeScript } from '../kube-cluster.ts'

const MESH_NS = 'minimesh-system'
const PLAIN_NS = 'e2e-no-injection'
const FIELD_MANAGER = 'minimesh-e2e'
const target = kubeClusterTarget()
const meshctl = (args: string[]) => meshctlOn(target, args).then((r) => ({ code: r.code, output: r.output }))
let kube: Kube
let driver: KubeDriver

const ref = (apiVersion: string, kind: string, name: string, namespace?: string) => ({
  apiVersion,
  kind,
  name,
  ...(namespace ? { namespace } : {}),
})

/** What meshd serves now: its /debug/configz, read through the API server's service proxy. */
async function meshdObjects(): Promise<{ kind: string; namespace?: string; name: string; state: string }[]> {
  const text = await kube.serviceProxyGet(MESH_NS, 'meshd', 15014, '/debug/configz')
  return (typeof text === 'string' ? JSON.parse(text) : text).objects
}

function virtualService(name: string, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name, namespace: 'default' },
    spec: {
      hosts: [`${name}.example`],
      http: [{ route: [{ destination: { host: 'details' } }], ...extra }],
    },
  }
}

beforeAll(async () => {
  driver = new KubeDriver(target)
  kube = driver.kube
  await driver.setup()
}, 300_000)

afterAll(async () => {
  await kube?.delete(ref('v1', 'Namespace', PLAIN_NS))
  for (const name of ['e2e-before-restart', 'e2e-after-restart'])
    await kube?.delete(ref('networking.istio.io/v1', 'VirtualService', name, 'default'))
}, 120_000)

describe('only a real Kubernetes shows (kube/cluster.sh)', () => {
  it('a pod in a namespace without minimesh-injection=enabled is not injected; one in a labelled namespace is', async () => {
    await kube.apply(
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: PLAIN_NS } },
      true,
      FIELD_MANAGER,
    )
    const pod = (namespace: string): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'e2e-plain', namespace, labels: { app: 'e2e-plain' } },
      spec: {
        containers: [
          {
            name: 'app',
            image: 'minimesh/bookinfo-details:0.1.0',
            env: [{ name: 'PORT', value: '9080' }],
            ports: [{ containerPort: 9080 }],
          },
        ],
      },
    })
    await kube.apply(pod(PLAIN_NS), true, FIELD_MANAGER)
    await kube.apply(pod('default'), true, FIELD_MANAGER)
    try {
      await driver.waitReady(PLAIN_NS, 'app=e2e-plain', 120_000)
      await driver.waitReady('default', 'app=e2e-plain', 120_000)
      const plain = await kube.read(ref('v1', 'Pod', 'e2e-plain', PLAIN_NS))
      const meshed = await kube.read(ref('v1', 'Pod', 'e2e-plain', 'default'))
      const names = (p: KubeObject | undefined) => {
        const spec = (p?.spec ?? {}) as {
          initContainers?: { name: string }[]
          containers?: { name: string }[]
        }
        return [...(spec.initContainers ?? []), ...(spec.containers ?? [])].map((c) => c.name)
      }
      expect(names(plain)).toEqual(['app'])
      expect(plain?.metadata.annotations?.['sidecar.minimesh.dev/status']).toBeUndefined()
      expect(names(meshed)).toContain('mesh-proxy')
      expect(names(meshed)).toContain('mesh-init')
      expect(meshed?.metadata.annotations?.['sidecar.minimesh.dev/status']).toBeDefined()
    } finally {
      await kube.delete(ref('v1', 'Pod', 'e2e-plain', 'default'))
    }
  })

  it('the validation webhook, called by the API server, refuses a bad VirtualService and names the field', async () => {
    const bad = virtualService('e2e-bad-regex', { match: [{ uri: { regex: '([' } }] })
    const err = await kube.apply(bad, true, FIELD_MANAGER).then(
      () => undefined,
      (e: Error) => e,
    )
    expect(err, 'the API server accepted a VirtualService with an invalid regex').toBeInstanceOf(Error)
    expect(err!.message).toContain('admission webhook')
    expect(err!.message).toContain('spec.http[0].match[0].uri.regex')
    expect(
      await kube.read(ref('networking.istio.io/v1', 'VirtualService', 'e2e-bad-regex', 'default')),
    ).toBeUndefined()
  })

  it("meshd's Kubernetes source survives an API-server restart: nothing applied or deleted around it is lost", async () => {
    await kube.apply(virtualService('e2e-before-restart'), true, FIELD_MANAGER)
    await waitUntil(
      'meshd to see e2e-before-restart',
      async () => ({
        done: (await meshdObjects()).some((o) => o.name === 'e2e-before-restart'),
        message: 'not yet',
      }),
      { timeoutMs: 30_000, intervalMs: 500 },
    )
    const meshdBefore = (await kube.list('v1', 'Pod', MESH_NS, 'app=meshd'))[0]
    await runKubeScript('cluster.sh', ['restart-apiserver'])
    // Straight after the API server is back, before meshd's watches have re-established: one
    // object added, one deleted. meshd must end with both changes (a relist or a resumed watch).
    await kube.apply(virtualService('e2e-after-restart'), true, FIELD_MANAGER)
    await kube.delete(ref('networking.istio.io/v1', 'VirtualService', 'e2e-before-restart', 'default'))
    await waitUntil(
      'meshd to see both changes made around the API-server restart',
      async () => {
        const names = (await meshdObjects()).map((o) => o.name)
        const added = names.includes('e2e-after-restart')
        const deleted = !names.includes('e2e-before-restart')
        return { done: added && deleted, message: `added seen: ${added}, deletion seen: ${deleted}` }
      },
      { timeoutMs: 90_000, intervalMs: 1000 },
    )
    const meshdAfter = (await kube.list('v1', 'Pod', MESH_NS, 'app=meshd'))[0]
    expect(meshdAfter?.metadata.name).toBe(meshdBefore?.metadata.name)
    const status = (meshdAfter?.status ?? {}) as { containerStatuses?: { restartCount: number }[] }
    const restarts = (status.containerStatuses ?? []).map((c) => c.restartCount)
    expect(restarts.length).toBeGreaterThan(0)
    expect(
      restarts.every((n) => n === 0),
      `meshd restarted: ${restarts}`,
    ).toBe(true)
  }, 240_000)

  it('meshctl install run again changes nothing; meshctl uninstall removes what it made (and a reinstall restores it)', async () => {
    const generation = async () =>
      (await kube.read(ref('apps/v1', 'Deployment', 'meshd', MESH_NS)))?.metadata.generation
    // Earlier scenarios may have installed with other settings (tracing's --trace-collector):
    // install with the suite's settings first, then show that the same install changes nothing.
    const first = await meshctl(['install', '--gateway-node-port', '30080'])
    expect(first.code, first.output).toBe(0)
    const before = await generation()
    const again = await meshctl(['install', '--gateway-node-port', '30080'])
    expect(again.code, again.output).toBe(0)
    expect(await generation()).toBe(before)

    const un = await meshctl(['uninstall'])
    expect(un.code, un.output).toBe(0)
    for (const gone of [
      ref('admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration', 'minimesh-sidecar-injector'),
      ref('admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration', 'minimesh-validator'),
      ref('v1', 'Namespace', MESH_NS),
    ])
      expect(await kube.read(gone), `${gone.kind} ${gone.name} is still there`).toBeUndefined()
    // CRDs stay without --purge (and with them the user's routing resources).
    expect(
      await kube.read(
        ref('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'virtualservices.networking.istio.io'),
      ),
    ).toBeDefined()

    const re = await meshctl(['install', '--gateway-node-port', '30080'])
    expect(re.code, re.output).toBe(0)
    await driver.waitReady(MESH_NS, 'app=meshd', 180_000)
  }, 600_000)
})
