// Everything minimesh asks a Kubernetes cluster to run, checked without one:
//   - every object (`meshctl install`'s, as applied on kind, and apps/bookinfo/kube/**/*.yaml)
//     validates against the official API schemas of Kubernetes 1.36 (testdata/kube-schema.ts);
//     mesh kinds against their own schemas (@minimesh/api, the source of the CRDs);
//   - the injection webhooks' selectors send the intended pods (evaluated as the API server does);
//   - every image any manifest (or the injector) names is one `make images` builds;
//   - the gateway's node port is the one kind/cluster.yaml publishes.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { isMeshResource, validateObject } from '@minimesh/api'
import type { KubeObject, Pod } from '@minimesh/api/kube'
import { DEFAULT_INJECT_CONFIG, shouldInject } from '@minimesh/injector'
import { matchesSelector } from '@minimesh/local-cluster'
import { beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { withCertChecksum, withGatewayNodePort } from './customize.ts'
import { GATEWAY_HOST_PORT, GATEWAY_NODE_PORT, readImagesList, repoRoot } from './kind.ts'
import { installManifests } from './manifests.ts'
import { parseObjects } from './objects.ts'
import { KUBERNETES_SCHEMA_VERSION, unknownFields, validateKubeObject } from './testdata/kube-schema.ts'

const root = repoRoot()

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? yamlFiles(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : [],
  )
}

let install: KubeObject[]
const bookinfoFiles = yamlFiles(join(root, 'apps/bookinfo/kube'))
const bookinfo = bookinfoFiles.flatMap((f) =>
  parseObjects(readFileSync(f, 'utf8'), { source: f.slice(root.length + 1) }),
)

beforeAll(async () => {
  // What `meshctl install --gateway-node-port 30080` (kind/up.sh) applies.
  const generated = (await installManifests()) as unknown as KubeObject[]
  const secret = generated.find((o) => o.kind === 'Secret')?.data as Record<string, string>
  install = withGatewayNodePort(withCertChecksum(generated, secret['tls.crt'] ?? ''), GATEWAY_NODE_PORT)
})

async function problems(objects: KubeObject[]): Promise<string[]> {
  const out: string[] = []
  for (const obj of objects) {
    if (isMeshResource(obj)) {
      for (const f of validateObject(obj))
        if (f.severity === 'error') out.push(`${obj.kind} ${obj.metadata.name}: ${f.path}: ${f.message}`)
    } else out.push(...(await validateKubeObject(obj)))
  }
  return out
}

describe(`schemas (Kubernetes ${KUBERNETES_SCHEMA_VERSION} API)`, () => {
  it('the install manifests are valid', async () => {
    expect(install.length).toBeGreaterThan(10)
    expect(await problems(install)).toEqual([])
  })
  it('the Bookinfo manifests and traffic samples are valid', async () => {
    expect(bookinfoFiles.length).toBeGreaterThan(5)
    expect(bookinfo.some((o) => o.kind === 'Deployment')).toBe(true)
    expect(bookinfo.some((o) => o.kind === 'VirtualService')).toBe(true)
    expect(await problems(bookinfo)).toEqual([])
  })
  it('the validator catches wrong types, bad enums, unknown fields and unknown kinds', async () => {
    const deployment = structuredClone(install.find((o) => o.kind === 'Deployment')!) as KubeObject & {
      spec: { replicas: unknown; template: { spec: { containers: Record<string, unknown>[] } } }
    }
    deployment.spec.replicas = 'one'
    deployment.spec.template.spec.containers[0]!.imagePullPolicy = 'Sometimes'
    deployment.spec.template.spec.containers[0]!.contianerPort = 80
    const found = await problems([deployment])
    expect(found.some((p) => p.includes('/spec/replicas: must be integer'))).toBe(true)
    expect(found.some((p) => p.includes('imagePullPolicy: must be equal to one of the allowed values'))).toBe(
      true,
    )
    expect(
      found.some((p) => p.includes('unknown field spec.template.spec.containers[0].contianerPort')),
    ).toBe(true)
    expect(
      await validateKubeObject({ apiVersion: 'apps/v1', kind: 'DeploymentConfig', metadata: { name: 'x' } }),
    ).toEqual([
      `DeploymentConfig x: apps/v1 DeploymentConfig is not a kind of the Kubernetes ${KUBERNETES_SCHEMA_VERSION} API`,
    ])
    expect(unknownFields({ metadata: { name: 'a', lables: {} } }, 'V1Service', '')).toEqual([
      'metadata.lables',
    ])
    const vs = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'r' },
      spec: { hosts: 'reviews' },
    }
    expect((await problems([vs as KubeObject])).length).toBeGreaterThan(0)
  })
})

describe('injection webhook selectors', () => {
  interface Webhook {
    name: string
    namespaceSelector?: object
    objectSelector?: object
    clientConfig: { service: { name: string; namespace: string; port: number; path: string } }
  }
  const webhooks = () =>
    (install.find((o) => o.kind === 'MutatingWebhookConfiguration') as unknown as { webhooks: Webhook[] })
      .webhooks
  const namespace = (name: string, labels: Record<string, string> = {}) => ({
    name,
    // The API server labels every namespace with its name.
    labels: { 'kubernetes.io/metadata.name': name, ...labels },
  })
  const enabled = { 'minimesh-injection': 'enabled' }
  const pod = (labels: Record<string, string> = {}, annotations: Record<string, string> = {}): Pod => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', labels: { app: 'reviews', ...labels }, annotations },
    spec: { containers: [{ name: 'reviews', image: 'minimesh/bookinfo-reviews:0.1.0' }] },
  })

  /** What the API server sends to the webhook, then what the webhook decides. */
  function injected(
    ns: { name: string; labels: Record<string, string> },
    p: Pod,
  ): { sentBy: string[]; injected: boolean } {
    const sentBy = webhooks()
      .filter(
        (w) =>
          matchesSelector(w.namespaceSelector as never, ns.labels) &&
          matchesSelector(w.objectSelector as never, p.metadata?.labels),
      )
      .map((w) => w.name)
    const decision = shouldInject({ ...p, metadata: { ...p.metadata, namespace: ns.name } }, ns)
    return { sentBy, injected: sentBy.length > 0 && decision.inject }
  }

  it('a labelled namespace: its pods are injected, by exactly one webhook', () => {
    expect(injected(namespace('default', enabled), pod())).toEqual({
      sentBy: ['namespace.sidecar-injector.minimesh.dev'],
      injected: true,
    })
  })
  it('an unlabelled namespace: not injected', () => {
    expect(injected(namespace('plain'), pod())).toEqual({ sentBy: [], injected: false })
    expect(injected(namespace('off', { 'minimesh-injection': 'disabled' }), pod()).injected).toBe(false)
  })
  it("minimesh-system and Kubernetes' own namespaces: never, even when labelled", () => {
    for (const name of ['minimesh-system', ...DEFAULT_INJECT_CONFIG.neverInjectNamespaces]) {
      expect(injected(namespace(name, enabled), pod()), name).toEqual({ sentBy: [], injected: false })
      expect(injected(namespace(name), pod({ 'sidecar.minimesh.dev/inject': 'true' })).sentBy, name).toEqual(
        [],
      )
    }
  })
  it('an opted-out pod in a labelled namespace: not injected (label: not even sent; annotation: refused)', () => {
    expect(injected(namespace('default', enabled), pod({ 'sidecar.minimesh.dev/inject': 'false' }))).toEqual({
      sentBy: [],
      injected: false,
    })
    const byAnnotation = injected(
      namespace('default', enabled),
      pod({}, { 'sidecar.minimesh.dev/inject': 'false' }),
    )
    expect(byAnnotation.injected).toBe(false)
  })
  it('an opted-in pod (label) in an unlabelled namespace: injected by the object webhook', () => {
    expect(injected(namespace('plain'), pod({ 'sidecar.minimesh.dev/inject': 'true' }))).toEqual({
      sentBy: ['object.sidecar-injector.minimesh.dev'],
      injected: true,
    })
  })
  const templateLabels = (name: string) =>
    (
      install.find((o) => o.kind === 'Deployment' && o.metadata.name === name)!.spec as {
        template: { metadata: { labels: Record<string, string> } }
      }
    ).template.metadata.labels
  it("meshd's pods are never sent", () => {
    expect(injected(namespace('minimesh-system', enabled), pod(templateLabels('meshd'))).sentBy).toEqual([])
    expect(injected(namespace('minimesh-system'), pod(templateLabels('meshd'))).sentBy).toEqual([])
  })
  it("the gateway's pods are sent to the gateway webhook only, which gives them the gateway template", () => {
    for (const ns of [namespace('minimesh-system'), namespace('minimesh-system', enabled)]) {
      expect(injected(ns, pod(templateLabels('minimesh-ingressgateway')))).toEqual({
        sentBy: ['gateway.sidecar-injector.minimesh.dev'],
        injected: true,
      })
    }
  })
  it('every webhook calls meshd, whose Service port 443 reaches the container port 15017', () => {
    const svc = install.find((o) => o.kind === 'Service' && o.metadata.name === 'meshd') as unknown as {
      spec: { ports: { port: number; targetPort: number }[] }
    }
    const meshd = install.find((o) => o.kind === 'Deployment' && o.metadata.name === 'meshd') as unknown as {
      spec: { template: { spec: { containers: { ports: { containerPort: number }[] }[] } } }
    }
    for (const w of webhooks()) {
      expect(w.clientConfig.service).toMatchObject({ name: 'meshd', namespace: 'minimesh-system', port: 443 })
      const target = svc.spec.ports.find((p) => p.port === w.clientConfig.service.port)?.targetPort
      expect(target).toBe(15017)
      expect(meshd.spec.template.spec.containers[0]?.ports.map((p) => p.containerPort)).toContain(target)
    }
  })
})

describe('images', () => {
  const built = new Set(readImagesList(root).map((i) => i.image))
  function imagesOf(objects: KubeObject[]): string[] {
    return objects.flatMap((o) => {
      const spec = (
        o.spec as { template?: { spec?: Record<string, { image?: string }[] | undefined> } } | undefined
      )?.template?.spec
      return [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])].map((c) => c.image ?? '')
    })
  }
  it('every image of the install, Bookinfo and the injected sidecar is one `make images` builds', () => {
    const named = [...imagesOf(install), ...imagesOf(bookinfo), DEFAULT_INJECT_CONFIG.image]
    expect(named.length).toBeGreaterThan(5)
    expect(named.filter((i) => !built.has(i))).toEqual([])
  })
  it('every image `make images` builds is used by something', () => {
    const named = new Set([...imagesOf(install), ...imagesOf(bookinfo), DEFAULT_INJECT_CONFIG.image])
    expect([...built].filter((i) => !named.has(i))).toEqual([])
  })
})

describe('kind', () => {
  it("the gateway Service's node port is the one kind/cluster.yaml publishes on localhost:8080", () => {
    const config = parse(readFileSync(join(root, 'kind/cluster.yaml'), 'utf8')) as {
      nodes: { extraPortMappings?: { containerPort: number; hostPort: number }[] }[]
    }
    const mapping = config.nodes
      .flatMap((n) => n.extraPortMappings ?? [])
      .find((m) => m.hostPort === GATEWAY_HOST_PORT)
    const svc = install.find(
      (o) => o.kind === 'Service' && o.metadata.name === 'minimesh-ingressgateway',
    ) as unknown as {
      spec: { type: string; ports: { name: string; nodePort?: number; targetPort: number }[] }
    }
    const http = svc.spec.ports.find((p) => p.targetPort === 8080)
    expect(http?.nodePort).toBe(mapping?.containerPort)
    expect(['NodePort', 'LoadBalancer']).toContain(svc.spec.type)
    expect(readFileSync(join(root, 'kind/up.sh'), 'utf8')).toContain(
      `--gateway-node-port ${GATEWAY_NODE_PORT}`,
    )
  })
})
