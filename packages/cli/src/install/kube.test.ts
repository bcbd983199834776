import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InstallError } from './errors.ts'
import { exitCodeFromStatus, Kube, loadKubeConfig, parseForbidden } from './kube.ts'
import { type FakeApiServer, startFakeApiServer } from './testdata/fake-apiserver.ts'

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'meshctl-kube-'))
}

function writeKubeconfig(text: string): string {
  const file = join(tempDir(), 'config')
  writeFileSync(file, text)
  return file
}

async function closedPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const { port } = s.address() as { port: number }
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

async function rejection(p: Promise<unknown>): Promise<InstallError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(InstallError)
  return err as InstallError
}

describe('loadKubeConfig', () => {
  it('without KUBECONFIG or ~/.kube/config says there is no kubeconfig and how to make a cluster', () => {
    const home = tempDir()
    let err: unknown
    try {
      loadKubeConfig({ env: {}, home })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(InstallError)
    expect((err as InstallError).code).toBe('MESH_ERR_INSTALL_NO_CLUSTER')
    expect((err as InstallError).message).toContain(join(home, '.kube', 'config'))
    expect((err as InstallError).message).toContain('kind/up.sh')
  })

  it('an unknown --context lists the contexts there are', async () => {
    const fake = await startFakeApiServer()
    try {
      const file = writeKubeconfig(fake.kubeconfig('kind-other'))
      expect(() => loadKubeConfig({ kubeconfig: file, context: 'kind-minimesh' })).toThrow(
        /context "kind-minimesh" is not in the kubeconfig \(it has: kind-other\)/,
      )
      expect(loadKubeConfig({ kubeconfig: file }).cluster).toEqual({
        context: 'kind-other',
        server: fake.url,
      })
    } finally {
      await fake.close()
    }
  })
})

describe('Kube against an API server', () => {
  let fake: FakeApiServer
  let kube: Kube
  beforeEach(async () => {
    fake = await startFakeApiServer()
    kube = Kube.connect({ kubeconfig: writeKubeconfig(fake.kubeconfig('kind-minimesh')) })
  })
  afterEach(async () => {
    await fake.close()
  })

  it('applies server-side as field manager meshctl with force', async () => {
    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'minimesh-system' } })
    const patch = fake.requests.find((r) => r.method === 'PATCH')
    expect(patch).toMatchObject({
      path: '/api/v1/namespaces/minimesh-system',
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: 'meshctl', force: 'true' },
    })
    const read = await kube.read({ apiVersion: 'v1', kind: 'Namespace', name: 'minimesh-system' })
    expect(read?.metadata.managedFields).toEqual([{ manager: 'meshctl', operation: 'Apply' }])
  })

  it('applies every field as written, x-kubernetes-* schema extensions of a CRD included', async () => {
    // client-node's model of JSONSchemaProps names them xKubernetes…: an object written with the
    // API's own names must not lose them on the way (a real API server then rejects the CRD).
    const schema = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            tcp: { description: 'kept, not pruned', 'x-kubernetes-preserve-unknown-fields': true },
            port: { 'x-kubernetes-int-or-string': true },
            mode: { type: 'string', enum: ['A', 'B'], default: 'A' },
            // Property names that look like schema keywords stay as they are.
            default: { type: 'object', properties: { enum: { type: 'string' } } },
            list: {
              type: 'array',
              items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, enum: [{}] },
            },
            any: { anyOf: [{ type: 'integer' }, { type: 'string', 'x-kubernetes-int-or-string': true }] },
          },
        },
      },
    }
    await kube.apply({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'things.example.dev' },
      spec: {
        group: 'example.dev',
        names: { kind: 'Thing', plural: 'things' },
        scope: 'Namespaced',
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: schema } }],
      },
    })
    const sent = fake.requests.find((r) => r.method === 'PATCH')?.body as {
      spec: { versions: { schema: { openAPIV3Schema: unknown } }[] }
    }
    expect(sent.spec.versions[0]?.schema.openAPIV3Schema).toEqual(schema)
  })

  it('read and delete of a missing object are undefined and false, not errors', async () => {
    const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'meshd', namespace: 'minimesh-system' }
    expect(await kube.read(ref)).toBeUndefined()
    expect(await kube.delete(ref)).toBe(false)
  })

  it('a 403 names the user, the verb, the resource and the object, and says what to do', async () => {
    fake.forbid('patch', 'clusterroles')
    const err = await rejection(
      kube.apply({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'meshd' },
      }),
    )
    expect(err.code).toBe('MESH_ERR_INSTALL_FORBIDDEN')
    expect(err.message).toContain('context "kind-minimesh"')
    expect(err.message).toContain(
      'user "dev@example.com" cannot patch clusterroles.rbac.authorization.k8s.io "meshd"',
    )
    expect(err.message).toContain('cluster-admin')
  })

  it('a 403 on a namespaced object says which namespace', async () => {
    fake.forbid('patch', 'deployments')
    const err = await rejection(
      kube.apply({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'meshd', namespace: 'minimesh-system' },
        spec: {},
      }),
    )
    expect(err.message).toContain('cannot patch deployments.apps "meshd" in namespace minimesh-system')
  })

  it('lists with a label selector', async () => {
    fake.seed({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'a', namespace: 'default', labels: { app: 'x' } },
    })
    fake.seed({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'b', namespace: 'default', labels: { app: 'y' } },
    })
    const pods = await kube.list('v1', 'Pod', 'default', 'app=y')
    expect(pods.map((p) => p.metadata.name)).toEqual(['b'])
    expect(fake.requests.at(-1)?.query.labelSelector).toBe('app=y')
  })
})

describe('no cluster', () => {
  it('connection refused names the context and the server and says how to start the cluster', async () => {
    const port = await closedPort()
    const fake = await startFakeApiServer()
    const text = fake.kubeconfig('kind-minimesh').replace(fake.url, `https://127.0.0.1:${port}`)
    await fake.close()
    const kube = Kube.connect({ kubeconfig: writeKubeconfig(text) })
    const err = await rejection(kube.list('v1', 'Namespace'))
    expect(err.code).toBe('MESH_ERR_INSTALL_NO_CLUSTER')
    expect(err.message).toContain(`cannot reach the Kubernetes API server https://127.0.0.1:${port}`)
    expect(err.message).toContain('context "kind-minimesh" (ECONNREFUSED)')
    expect(err.message).toContain('kind get clusters')
  })
})

describe('pure helpers', () => {
  it('parseForbidden reads the RBAC denial', () => {
    expect(
      parseForbidden(
        'customresourcedefinitions.apiextensions.k8s.io "x" is forbidden: User "jane" cannot patch resource "customresourcedefinitions" in API group "apiextensions.k8s.io" at the cluster scope',
      ),
    ).toEqual({ user: 'jane', verb: 'patch', resource: 'customresourcedefinitions.apiextensions.k8s.io' })
    expect(
      parseForbidden(
        'namespaces is forbidden: User "jane" cannot list resource "namespaces" in API group "" at the cluster scope',
      ),
    ).toEqual({
      user: 'jane',
      verb: 'list',
      resource: 'namespaces',
    })
    expect(parseForbidden('something else')).toEqual({})
  })

  it('exitCodeFromStatus: Success 0, NonZeroExitCode its code, anything else -1', () => {
    expect(exitCodeFromStatus({ status: 'Success' })).toBe(0)
    expect(
      exitCodeFromStatus({
        status: 'Failure',
        reason: 'NonZeroExitCode',
        details: { causes: [{ reason: 'ExitCode', message: '7' }] },
      }),
    ).toBe(7)
    expect(exitCodeFromStatus({ status: 'Failure', reason: 'InternalError' })).toBe(-1)
    expect(exitCodeFromStatus(undefined)).toBe(-1)
  })
})
