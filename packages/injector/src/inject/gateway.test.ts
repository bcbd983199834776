import { readFileSync } from 'node:fs'
import type { Container, PodTemplateSpec } from '@minimesh/api/kube'
import { applyPatch } from 'fast-json-patch'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { DEFAULT_INJECT_CONFIG, resolveInjectConfig } from '../config.ts'
import { gatewayPod } from '../testdata/pods.ts'
import { admitPod } from '../webhook/mutate.ts'
import { inject } from './inject.ts'
import { shouldInject } from './policy.ts'
import { injectResource, uninjectResource } from './resources.ts'
import { parseStatus } from './status.ts'
import { uninject } from './uninject.ts'

const MESH_ROOT = readFileSync(new URL('../testdata/mesh-root.pem', import.meta.url), 'utf8')
const caConfig = resolveInjectConfig({ caRootCert: MESH_ROOT })
const TEMPLATE = 'sidecar.minimesh.dev/template'

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x)
    Object.freeze(v)
  }
  return v
}

const proxyOf = (pod: PodTemplateSpec): Container =>
  pod.spec!.containers.find((c) => c.name === 'mesh-proxy')!

/** A gateway pod with as little as possible: no metadata besides the label, no env, mounts, args or volumes. */
function bareGateway(): PodTemplateSpec {
  return {
    metadata: { labels: { [TEMPLATE]: 'gateway' } },
    spec: { containers: [{ name: 'mesh-proxy', image: 'minimesh/proxy:0.1.0', command: ['mesh-proxy'] }] },
  }
}

describe('gateway template', () => {
  const input = deepFreeze(gatewayPod())
  const out = inject(input, caConfig)

  it('adds the roots, the projected CA token and --token-file to mesh-proxy', () => {
    const proxy = proxyOf(out)
    expect(proxy.env?.at(-1)).toEqual({ name: 'MESH_CA_ROOT_CERT', value: MESH_ROOT })
    expect(proxy.volumeMounts).toEqual([
      ...(proxyOf(input).volumeMounts as unknown[]),
      { name: 'minimesh-token', mountPath: '/var/run/secrets/tokens', readOnly: true },
    ])
    expect(proxy.args).toEqual([
      'router',
      '--discovery-address',
      'meshd.minimesh-system.svc:15010',
      '--token-file',
      '/var/run/secrets/tokens/minimesh-token',
    ])
    expect(out.spec!.volumes!.at(-1)).toEqual({
      name: 'minimesh-token',
      projected: {
        sources: [
          {
            serviceAccountToken: {
              audience: 'minimesh-ca',
              expirationSeconds: 43_200,
              path: 'minimesh-token',
            },
          },
        ],
      },
    })
  })

  it('adds nothing else: no init container, no other container, no other annotation, the rest as it was', () => {
    expect(out.spec!.initContainers).toBeUndefined()
    expect(out.spec!.containers.map((c) => c.name)).toEqual(['mesh-proxy'])
    expect(Object.keys(out.metadata!.annotations!)).toEqual(['sidecar.minimesh.dev/status'])
    expect(out.metadata!.labels).toEqual(input.metadata!.labels)
    const { env: _e, volumeMounts: _m, args: _a, ...restOut } = proxyOf(out)
    const { env: _ie, volumeMounts: _im, args: _ia, ...restIn } = proxyOf(input)
    expect(restOut).toEqual(restIn)
    expect({ ...out.spec, containers: [], volumes: [] }).toEqual({
      ...input.spec,
      containers: [],
      volumes: [],
    })
  })

  it('records itself in the status annotation', () => {
    expect(parseStatus(out.metadata!.annotations!['sidecar.minimesh.dev/status']!)).toEqual({
      template: 'gateway',
      initContainers: [],
      containers: [],
      volumes: ['minimesh-token'],
      annotations: [],
      proxy: {
        container: 'mesh-proxy',
        env: ['MESH_CA_ROOT_CERT'],
        volumeMounts: ['minimesh-token'],
        args: ['--token-file', '/var/run/secrets/tokens/minimesh-token'],
      },
      created: ['metadata.annotations'],
    })
  })

  it('is idempotent: a second pass (webhook or kube-inject) changes nothing, and the policy says done', () => {
    expect(inject(out, caConfig)).toEqual(out)
    expect(shouldInject(out, { name: 'minimesh-system' })).toEqual({
      inject: false,
      reason: 'already injected (gateway template)',
    })
  })

  it('uninject gives back the exact pod, for a full pod and for one whose lists inject had to create', () => {
    expect(uninject(out)).toEqual(input)
    const bare = deepFreeze(bareGateway())
    const injected = inject(bare, caConfig)
    expect(parseStatus(injected.metadata!.annotations!['sidecar.minimesh.dev/status']!).created).toEqual([
      'proxy.env',
      'proxy.volumeMounts',
      'proxy.args',
      'spec.volumes',
      'metadata.annotations',
    ])
    expect(uninject(injected)).toEqual(bare)
  })

  it('uninject takes out only what it added when the user args repeat the same flags earlier', () => {
    const pod = gatewayPod()
    proxyOf(pod).args = ['router', '--log-level', 'debug']
    const injected = inject(pod, caConfig)
    expect(uninject(injected)).toEqual(pod)
  })

  it('without a mesh CA there is nothing to add: the pod comes back as it is', () => {
    expect(inject(input, DEFAULT_INJECT_CONFIG)).toEqual(input)
  })

  it('refuses a pod without mesh-proxy, one that already has what it adds, and an unknown template', () => {
    const noProxy = gatewayPod()
    noProxy.spec!.containers[0]!.name = 'gateway'
    expect(() => inject(noProxy, caConfig)).toThrow(
      expect.objectContaining({
        code: 'MESH_ERR_INJECT_INVALID_POD',
        message: expect.stringMatching(/mesh-proxy/),
      }),
    )
    const withEnv = gatewayPod()
    proxyOf(withEnv).env!.push({ name: 'MESH_CA_ROOT_CERT', value: 'x' })
    expect(() => inject(withEnv, caConfig)).toThrow(
      expect.objectContaining({ code: 'MESH_ERR_INJECT_CONFLICT' }),
    )
    const withVolume = gatewayPod()
    withVolume.spec!.volumes!.push({ name: 'minimesh-token', emptyDir: {} })
    expect(() => inject(withVolume, caConfig)).toThrow(
      expect.objectContaining({ code: 'MESH_ERR_INJECT_CONFLICT' }),
    )
    const withArg = gatewayPod()
    proxyOf(withArg).args = ['router', '--token-file=/t']
    expect(() => inject(withArg, caConfig)).toThrow(
      expect.objectContaining({ code: 'MESH_ERR_INJECT_CONFLICT' }),
    )
    const unknown = gatewayPod()
    unknown.metadata!.labels![TEMPLATE] = 'egress'
    expect(() => inject(unknown, caConfig)).toThrow(
      expect.objectContaining({
        code: 'MESH_ERR_INJECT_UNKNOWN_TEMPLATE',
        message: expect.stringMatching(/egress/),
      }),
    )
  })

  it('template=sidecar is the usual sidecar', () => {
    const pod = gatewayPod()
    pod.metadata!.namespace = 'default'
    pod.metadata!.labels![TEMPLATE] = 'sidecar'
    pod.spec!.containers[0]!.name = 'app'
    const injected = inject(pod, caConfig)
    expect(injected.spec!.initContainers?.map((c) => c.name)).toEqual(['mesh-init'])
  })
})

describe('gateway template: policy', () => {
  it('in any namespace (minimesh-system, kube-system), hostNetwork or not, unless opted out', () => {
    for (const ns of ['minimesh-system', 'kube-system', 'default'])
      expect(shouldInject(gatewayPod(), { name: ns, labels: {} }).inject, ns).toBe(true)
    const host = gatewayPod()
    host.spec!.hostNetwork = true
    expect(shouldInject(host, { name: 'minimesh-system' }).inject).toBe(true)
    const off = gatewayPod()
    off.metadata!.labels!['sidecar.minimesh.dev/inject'] = 'false'
    expect(shouldInject(off, { name: 'minimesh-system' })).toEqual({
      inject: false,
      reason: 'pod label sidecar.minimesh.dev/inject=false',
    })
    const offAnnotation = gatewayPod()
    offAnnotation.metadata!.annotations = { 'sidecar.minimesh.dev/inject': 'false' }
    expect(shouldInject(offAnnotation, { name: 'minimesh-system' }).inject).toBe(false)
  })
})

describe('gateway template: through the webhook and kube-inject', () => {
  const logger = pino({ level: 'silent' })
  const review = (object: PodTemplateSpec) => ({
    uid: 'u1',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: { group: '', version: 'v1', resource: 'pods' },
    namespace: 'minimesh-system',
    operation: 'CREATE',
    object,
  })

  it('the webhook patches the gateway pod in minimesh-system into what inject() makes', async () => {
    const pod = gatewayPod()
    const { response, outcome } = await admitPod(review(pod) as never, { config: caConfig, logger })
    expect(outcome).toBe('injected')
    const patch = JSON.parse(Buffer.from(response.patch!, 'base64').toString())
    expect(applyPatch(structuredClone(pod), patch, true, false).newDocument).toEqual(inject(pod, caConfig))
  })

  it('the webhook refuses a gateway pod it cannot fill in, with the reason', async () => {
    const pod = gatewayPod()
    pod.spec!.containers[0]!.name = 'envoy'
    const { response, outcome } = await admitPod(review(pod) as never, { config: caConfig, logger })
    expect(outcome).toBe('denied')
    expect(response.status?.message).toMatch(/mesh-proxy.*MESH_ERR_INJECT_INVALID_POD/)
  })

  it('kube-inject applies it to a Deployment labelled for it, and --uninject takes it out', () => {
    const pod = gatewayPod()
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'minimesh-ingressgateway', namespace: 'minimesh-system' },
      spec: { template: { metadata: pod.metadata, spec: pod.spec } },
    }
    const r = injectResource(deployment, caConfig)
    expect(r.changed).toBe(true)
    const tpl = (r.object.spec as { template: PodTemplateSpec }).template
    expect(proxyOf(tpl).args).toContain('--token-file')
    expect(tpl.spec!.initContainers).toBeUndefined()
    expect(uninjectResource(r.object).object).toEqual(deployment)
  })
})
