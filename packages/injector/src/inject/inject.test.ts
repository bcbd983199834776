import { readFileSync } from 'node:fs'
import type { PodTemplateSpec } from '@minimesh/api/kube'
import { applyPatch } from 'fast-json-patch'
import { afterAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { DEFAULT_INJECT_CONFIG, resolveInjectConfig } from '../config.ts'
import { checkNoStaleGoldens, expectGolden } from '../testdata/golden.ts'
import { CASES, gatewayPod, type PodCase, productpagePod } from '../testdata/pods.ts'
import { jsonPatch } from '../webhook/patch.ts'
import { inject, isInjected } from './inject.ts'
import { shouldInject } from './policy.ts'
import { findProxy } from './sidecar.ts'
import { parseStatus } from './status.ts'
import { uninject } from './uninject.ts'

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x)
    Object.freeze(v)
  }
  return v
}

/** A mesh root (self-signed, for goldens only) as meshd's CA would give the injector. */
const MESH_ROOT = readFileSync(new URL('../testdata/mesh-root.pem', import.meta.url), 'utf8')
const caConfig = resolveInjectConfig({ caRootCert: MESH_ROOT })
/** The injector on a cluster that runs native sidecars (meshd on Kubernetes ≥ 1.33, the local cluster). */
const nativeConfig = resolveInjectConfig({ nativeSidecars: true })
/** Every port and id of the sidecar contract moved off its default. */
const customPorts = resolveInjectConfig({
  outboundCapturePort: 16001,
  inboundCapturePort: 16006,
  statusPort: 16020,
  healthPort: 16021,
  promPort: 16090,
  proxyUid: 2337,
  proxyGid: 2338,
})
/** The proxy's port flags with the defaults. */
const DEFAULT_PORT_ARGS = [
  '--outbound-port',
  '15001',
  '--inbound-port',
  '15006',
  '--stats-port',
  '15020',
  '--health-port',
  '15021',
  '--prom-port',
  '15090',
]

const proxyOf = (pod: PodTemplateSpec) => findProxy(pod)!.container

const table: PodCase[] = [
  ...CASES,
  {
    name: 'already-injected',
    about: 'a pod injected before is left as it is',
    pod: inject(productpagePod()),
    namespaceLabels: { 'minimesh-injection': 'enabled' },
  },
]

function sidecarEnv(pod: PodTemplateSpec): Record<string, unknown> {
  const proxy = proxyOf(pod)
  return Object.fromEntries((proxy.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]))
}

describe('inject: golden pods', () => {
  afterAll(checkNoStaleGoldens)

  for (const c of table) {
    it(`${c.name}: ${c.about}`, () => {
      const input = deepFreeze(structuredClone(c.pod))
      const decision = shouldInject(input, { name: input.metadata?.namespace, labels: c.namespaceLabels })
      const out = decision.inject ? inject(input) : input
      expectGolden(
        `${c.name}.yaml`,
        `# ${c.about}\n# decision: ${JSON.stringify(decision)}\n${stringify(out)}`,
      )
      if (decision.inject) {
        expectGolden(`${c.name}.patch.json`, `${JSON.stringify(jsonPatch(input, out), null, 2)}\n`)
      }
    })
  }

  // The same pods on a cluster that runs native sidecars (the classic goldens above are the
  // placement for older clusters and for pods annotated nativeSidecar: "false").
  for (const c of table.filter((c) =>
    ['opt-in-namespace', 'probes', 'several-containers', 'bare-template', 'app-native-sidecar'].includes(
      c.name,
    ),
  )) {
    it(`native-${c.name}: ${c.about}, native sidecar`, () => {
      const input = deepFreeze(structuredClone(c.pod))
      const out = inject(input, nativeConfig)
      expectGolden(`native-${c.name}.yaml`, `# ${c.about}\n# nativeSidecars: true\n${stringify(out)}`)
      expectGolden(`native-${c.name}.patch.json`, `${JSON.stringify(jsonPatch(input, out), null, 2)}\n`)
    })
  }

  it('mesh-ca: with the mesh root, the sidecar gets MESH_CA_ROOT_CERT and the projected CA token', () => {
    const input = deepFreeze(productpagePod())
    const out = inject(input, caConfig)
    expectGolden(
      'mesh-ca.yaml',
      `# productpage with the injector configured with meshd's CA root (caRootCert)\n${stringify(out)}`,
    )
    expectGolden('mesh-ca.patch.json', `${JSON.stringify(jsonPatch(input, out), null, 2)}\n`)
  })

  it('custom-ports: every port and the uid/gid off their defaults: mesh-init, the proxy and the probes agree', () => {
    const input = deepFreeze(structuredClone(CASES.find((c) => c.name === 'probes')!.pod))
    const out = inject(input, customPorts)
    expectGolden(
      'custom-ports.yaml',
      `# the probes pod with the injector's ports and ids all moved off their defaults\n${stringify(out)}`,
    )
    expectGolden('custom-ports.patch.json', `${JSON.stringify(jsonPatch(input, out), null, 2)}\n`)
  })

  it('gateway: the gateway template fills the identity into the mesh-proxy container, nothing else', () => {
    const input = deepFreeze(gatewayPod())
    const decision = shouldInject(input, { name: 'minimesh-system' })
    const out = inject(input, caConfig)
    expectGolden(
      'gateway.yaml',
      `# the ingress gateway's pod (label sidecar.minimesh.dev/template: gateway) with meshd's CA root\n# decision: ${JSON.stringify(decision)}\n${stringify(out)}`,
    )
    expectGolden('gateway.patch.json', `${JSON.stringify(jsonPatch(input, out), null, 2)}\n`)
  })
})

describe('inject: with the mesh CA (caRootCert)', () => {
  const out = inject(productpagePod(), caConfig)
  const proxy = proxyOf(out)

  it('mounts the projected token read-only and passes the roots', () => {
    expect(proxy.volumeMounts).toEqual([
      { name: 'mesh-proxy-data', mountPath: '/var/run/minimesh' },
      { name: 'minimesh-token', mountPath: '/var/run/secrets/tokens', readOnly: true },
    ])
    expect(sidecarEnv(out).MESH_CA_ROOT_CERT).toBe(MESH_ROOT)
    expect(proxy.args).toEqual([
      'sidecar',
      '--discovery-address',
      'meshd.minimesh-system.svc:15010',
      ...DEFAULT_PORT_ARGS,
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
              expirationSeconds: 43200,
              path: 'minimesh-token',
            },
          },
        ],
      },
    })
    expect(parseStatus(out.metadata!.annotations!['sidecar.minimesh.dev/status']!).volumes).toEqual([
      'mesh-proxy-data',
      'minimesh-token',
    ])
  })

  it('passes the workloadCertTTL annotation on as MESH_WORKLOAD_CERT_TTL, and refuses a bad one', () => {
    const pod = productpagePod()
    pod.metadata!.annotations = {
      ...pod.metadata!.annotations,
      'sidecar.minimesh.dev/workloadCertTTL': '90s',
    }
    expect(sidecarEnv(inject(pod, caConfig)).MESH_WORKLOAD_CERT_TTL).toBe('90s')
    expect(sidecarEnv(inject(pod)).MESH_WORKLOAD_CERT_TTL).toBeUndefined()
    expect(sidecarEnv(out).MESH_WORKLOAD_CERT_TTL).toBeUndefined()
    pod.metadata!.annotations['sidecar.minimesh.dev/workloadCertTTL'] = 'soon'
    expect(() => inject(pod, caConfig)).toThrow(
      expect.objectContaining({
        code: 'MESH_ERR_INJECT_BAD_ANNOTATION',
        message: expect.stringContaining('sidecar.minimesh.dev/workloadCertTTL: "soon" is not a duration'),
      }),
    )
  })

  it('adds nothing about the CA without the root', () => {
    const plain = inject(productpagePod())
    expect(JSON.stringify(plain)).not.toMatch(/minimesh-token|MESH_CA_ROOT_CERT/)
  })

  it('is pure, idempotent and reversible for every pod of the table', () => {
    for (const c of CASES) {
      const input = deepFreeze(structuredClone(c.pod))
      const once = inject(input, caConfig)
      expect(inject(once, caConfig)).toStrictEqual(once)
      expect(uninject(once)).toStrictEqual(input)
      const patched = applyPatch(structuredClone(input), jsonPatch(input, once), true, false).newDocument
      expect(patched).toStrictEqual(once)
    }
  })

  it('refuses a pod that already has a volume named minimesh-token, and a root that is not PEM', () => {
    const pod = productpagePod()
    pod.spec!.volumes!.push({ name: 'minimesh-token', emptyDir: {} })
    expect(() => inject(pod, caConfig)).toThrow(
      expect.objectContaining({
        code: 'MESH_ERR_INJECT_CONFLICT',
        message: expect.stringContaining('minimesh-token'),
      }),
    )
    expect(inject(pod).spec!.volumes!.filter((v) => v.name === 'minimesh-token')).toHaveLength(1)
    expect(() => resolveInjectConfig({ caRootCert: 'not a cert' })).toThrow(
      expect.objectContaining({
        code: 'MESH_ERR_INJECT_BAD_CONFIG',
        message: expect.stringMatching(/^caRootCert: /),
      }),
    )
  })
})

describe('inject: properties over the whole table', () => {
  for (const c of table) {
    it(`${c.name}: pure, idempotent, reversible, patch reproduces it`, () => {
      const input = deepFreeze(structuredClone(c.pod))
      const once = inject(input)
      expect(isInjected(once)).toBe(true)
      expect(inject(once)).toStrictEqual(once)
      const back = uninject(once)
      expect(back).toStrictEqual(c.name === 'already-injected' ? uninject(c.pod) : c.pod)
      if (c.name !== 'already-injected') expect(back).toStrictEqual(input)
      const patched = applyPatch(structuredClone(input), jsonPatch(input, once), true, false).newDocument
      expect(patched).toStrictEqual(once)
    })
  }
})

describe('inject: what it adds', () => {
  const out = inject(productpagePod())
  const spec = out.spec!
  const proxy = proxyOf(out)
  const init = spec.initContainers!.at(-1)!

  it('the sidecar: name, image, command, args, uid/gid 1337, read-only root, ports, readiness', () => {
    expect(proxy).toMatchObject({
      name: 'mesh-proxy',
      image: 'minimesh/proxy:0.1.0',
      command: ['mesh-proxy'],
      args: ['sidecar', '--discovery-address', 'meshd.minimesh-system.svc:15010', ...DEFAULT_PORT_ARGS],
      securityContext: { runAsUser: 1337, runAsGroup: 1337, readOnlyRootFilesystem: true },
      readinessProbe: { httpGet: { path: '/healthz/ready', port: 15021 } },
      volumeMounts: [{ name: 'mesh-proxy-data', mountPath: '/var/run/minimesh' }],
    })
    expect(proxy.ports!.map((p) => [p.name, p.containerPort])).toEqual([
      ['mesh-prom', 15090],
      ['mesh-metrics', 15020],
      ['mesh-health', 15021],
    ])
  })

  it('the sidecar env: downward API, workload, labels, app ports, discovery address', () => {
    expect(sidecarEnv(out)).toEqual({
      POD_NAME: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } },
      POD_NAMESPACE: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } },
      INSTANCE_IP: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } },
      SERVICE_ACCOUNT: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.serviceAccountName' } },
      MESH_WORKLOAD_NAME: 'productpage-v1',
      MESH_POD_LABELS: JSON.stringify({
        app: 'productpage',
        version: 'v1',
        'pod-template-hash': '6b746f74dc',
      }),
      MESH_APP_PORTS: '9080',
      MESH_DISCOVERY_ADDRESS: 'meshd.minimesh-system.svc:15010',
    })
  })

  it('the init container: mesh-init with istio-init args, NET_ADMIN and NET_RAW, as root', () => {
    expect(init).toMatchObject({
      name: 'mesh-init',
      image: 'minimesh/proxy:0.1.0',
      command: ['mesh-init'],
      args: [
        '-p',
        '15001',
        '-z',
        '15006',
        '-u',
        '1337',
        '-m',
        'REDIRECT',
        '-i',
        '*',
        '-x',
        '',
        '-b',
        '*',
        '-d',
        '15090,15021,15020',
      ],
      securityContext: { runAsUser: 0, runAsNonRoot: false, capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } },
    })
  })

  it('annotations: status lists what was added, prometheus points at the merged metrics', () => {
    const a = out.metadata!.annotations!
    expect(a['prometheus.io/scrape']).toBe('true')
    expect(a['prometheus.io/port']).toBe('15020')
    expect(a['prometheus.io/path']).toBe('/stats/prometheus')
    expect(parseStatus(a['sidecar.minimesh.dev/status']!)).toMatchObject({
      initContainers: ['mesh-init'],
      containers: ['mesh-proxy'],
      volumes: ['mesh-proxy-data'],
    })
    expect(spec.volumes!.at(-1)).toEqual({ name: 'mesh-proxy-data', emptyDir: { medium: 'Memory' } })
  })

  it('probes go to the status port, originals to MESH_KUBE_APP_PROBERS', () => {
    const probed = inject(CASES.find((c) => c.name === 'probes')!.pod)
    const web = probed.spec!.containers.find((c) => c.name === 'web')!
    expect(web.readinessProbe).toEqual({
      httpGet: { path: '/app-health/web/readyz', port: 15020, scheme: 'HTTP' },
      periodSeconds: 5,
    })
    expect(web.startupProbe!.httpGet).toEqual({
      path: '/app-health/web/startupz',
      port: 15020,
      scheme: 'HTTP',
    })
    expect(web.startupProbe!.tcpSocket).toBeUndefined()
    expect(JSON.parse(sidecarEnv(probed).MESH_KUBE_APP_PROBERS as string)).toEqual({
      '/app-health/web/readyz': {
        httpGet: { path: '/ready', port: 8080, scheme: 'HTTP' },
        timeoutSeconds: 1,
      },
      '/app-health/web/livez': {
        httpGet: {
          path: '/live',
          port: 8443,
          scheme: 'HTTPS',
          httpHeaders: [{ name: 'X-Probe', value: 'kubelet' }],
        },
        timeoutSeconds: 3,
      },
      '/app-health/web/startupz': { tcpSocket: { port: 8080 }, timeoutSeconds: 1 },
    })
    const worker = probed.spec!.containers.find((c) => c.name === 'worker')!
    expect(worker.startupProbe).toEqual({ httpGet: { host: '10.0.0.1', path: '/', port: 80 } })
    expect(worker.livenessProbe).toEqual({ exec: { command: ['cat', '/tmp/healthy'] } })
  })

  it('the ports the config chose: mesh-init redirects to, and leaves alone, the ones the proxy is told to bind', () => {
    for (const placement of [{}, { nativeSidecars: true }]) {
      const o = inject(productpagePod(), { ...customPorts, ...placement })
      const p = proxyOf(o)
      expect(p.args).toEqual([
        'sidecar',
        '--discovery-address',
        'meshd.minimesh-system.svc:15010',
        ...['--outbound-port', '16001', '--inbound-port', '16006', '--stats-port', '16020'],
        ...['--health-port', '16021', '--prom-port', '16090'],
        ...(placement.nativeSidecars ? ['--min-drain-seconds', '0'] : []),
      ])
      expect(p.ports!.map((x) => [x.name, x.containerPort])).toEqual([
        ['mesh-prom', 16090],
        ['mesh-metrics', 16020],
        ['mesh-health', 16021],
      ])
      expect(p.readinessProbe!.httpGet!.port).toBe(16021)
      if (placement.nativeSidecars) expect(p.startupProbe!.httpGet!.port).toBe(16021)
      else
        expect(p.lifecycle).toEqual({ postStart: { exec: { command: expect.arrayContaining(['16021']) } } })
      expect(p.securityContext).toMatchObject({ runAsUser: 2337, runAsGroup: 2338 })
      const init = o.spec!.initContainers!.find((c) => c.name === 'mesh-init')!
      expect(init.args).toEqual([
        ...['-p', '16001', '-z', '16006', '-u', '2337', '-g', '2338', '-m', 'REDIRECT'],
        ...['-i', '*', '-x', '', '-b', '*', '-d', '16090,16021,16020'],
      ])
      // Prometheus is pointed at the status port the proxy serves its metrics on.
      expect(o.metadata!.annotations!['prometheus.io/port']).toBe('16020')
    }
    // The app's probes go to the status port the proxy answers them on.
    const probed = inject(CASES.find((c) => c.name === 'probes')!.pod, customPorts)
    const web = probed.spec!.containers.find((c) => c.name === 'web')!
    expect(web.readinessProbe!.httpGet).toEqual({
      path: '/app-health/web/readyz',
      port: 16020,
      scheme: 'HTTP',
    })
  })

  it('config changes what is injected', () => {
    const config = resolveInjectConfig({
      image: 'registry.local/proxy:dev',
      discoveryAddress: '198.18.0.1:15010',
      excludeOutboundPorts: [3306],
    })
    const o = inject(productpagePod(), config)
    const p = proxyOf(o)
    expect(p.image).toBe('registry.local/proxy:dev')
    expect(p.args).toEqual(['sidecar', '--discovery-address', '198.18.0.1:15010', ...DEFAULT_PORT_ARGS])
    expect(o.spec!.initContainers!.at(-1)!.args).toEqual(expect.arrayContaining(['-o', '3306']))
    expect(DEFAULT_INJECT_CONFIG.image).toBe('minimesh/proxy:0.1.0')
  })
})

describe('inject: where the proxy goes', () => {
  it('classic (default): first container, postStart waits for its readiness; app after it', () => {
    const out = inject(productpagePod())
    expect(out.spec!.containers.map((c) => c.name)).toEqual(['mesh-proxy', 'productpage'])
    expect(out.spec!.initContainers!.map((c) => c.name)).toEqual(['mesh-init'])
    const proxy = proxyOf(out)
    expect(proxy.lifecycle).toEqual({
      postStart: { exec: { command: ['mesh-proxy', 'wait', '--health-port', '15021', '--timeout', '600'] } },
    })
    expect(proxy.restartPolicy).toBeUndefined()
    expect(out.metadata!.annotations!['kubectl.kubernetes.io/default-container']).toBe('productpage')
  })

  it('classic without hold: the proxy last, no hook', () => {
    const out = inject(productpagePod(), resolveInjectConfig({ holdApplicationUntilProxyStarts: false }))
    expect(out.spec!.containers.map((c) => c.name)).toEqual(['productpage', 'mesh-proxy'])
    expect(proxyOf(out).lifecycle).toBeUndefined()
  })

  it("native: mesh-init, then mesh-proxy with restartPolicy Always and a startupProbe, before the pod's own", () => {
    const pod = CASES.find((c) => c.name === 'several-containers')!.pod
    const out = inject(pod, nativeConfig)
    expect(out.spec!.initContainers!.map((c) => c.name)).toEqual(['mesh-init', 'mesh-proxy', 'migrate'])
    expect(out.spec!.containers.map((c) => c.name)).toEqual(['reviews', 'log-shipper'])
    const proxy = proxyOf(out)
    expect(proxy.restartPolicy).toBe('Always')
    expect(proxy.startupProbe).toMatchObject({
      httpGet: { path: '/healthz/ready', port: 15021 },
      periodSeconds: 1,
      failureThreshold: 600,
    })
    expect(proxy.lifecycle).toBeUndefined()
    expect(parseStatus(out.metadata!.annotations!['sidecar.minimesh.dev/status']!)).toMatchObject({
      initContainers: ['mesh-init', 'mesh-proxy'],
      containers: [],
    })
    expect(uninject(out)).toStrictEqual(pod)
    expect(inject(out, nativeConfig)).toStrictEqual(out)
    expect(inject(out)).toStrictEqual(out)
    // The webhook's patch inserts at the front instead of rewriting every init container.
    expect(jsonPatch(pod, out).filter((op) => op.path.startsWith('/spec/initContainers'))).toEqual([
      { op: 'add', path: '/spec/initContainers/0', value: out.spec!.initContainers![0] },
      { op: 'add', path: '/spec/initContainers/1', value: out.spec!.initContainers![1] },
    ])
  })

  it('the annotation overrides the config both ways; a bad value is refused', () => {
    const off = productpagePod()
    off.metadata!.annotations = { 'sidecar.minimesh.dev/nativeSidecar': 'false' }
    expect(findProxy(inject(off, nativeConfig))!.list).toBe('containers')
    const on = productpagePod()
    on.metadata!.annotations = { 'sidecar.minimesh.dev/nativeSidecar': 'True' }
    expect(findProxy(inject(on))!.list).toBe('initContainers')
    on.metadata!.annotations = { 'sidecar.minimesh.dev/nativeSidecar': 'yes' }
    expect(() => inject(on)).toThrow(expect.objectContaining({ code: 'MESH_ERR_INJECT_BAD_ANNOTATION' }))
  })

  it('a pod with the proxy in either list counts as injected', () => {
    const native = inject(productpagePod(), nativeConfig)
    delete native.metadata!.annotations!['sidecar.minimesh.dev/status']
    native.spec!.initContainers = native.spec!.initContainers!.filter((c) => c.name !== 'mesh-init')
    expect(isInjected(native)).toBe(true)
  })
})

describe('inject: refusals', () => {
  it('a malformed traffic annotation', () => {
    const pod = productpagePod()
    pod.metadata!.annotations = { 'traffic.sidecar.minimesh.dev/excludeOutboundPorts': '5432,http' }
    expect(() => inject(pod)).toThrow(
      expect.objectContaining({
        code: 'MESH_ERR_INJECT_BAD_ANNOTATION',
        message: expect.stringContaining('"http"'),
      }),
    )
    pod.metadata!.annotations = { 'traffic.sidecar.minimesh.dev/excludeOutboundIPRanges': '10.0.0.0/33' }
    expect(() => inject(pod)).toThrow(expect.objectContaining({ code: 'MESH_ERR_INJECT_BAD_ANNOTATION' }))
  })
  it('a pod without containers, or with our volume name taken', () => {
    expect(() => inject({ spec: { containers: [] } })).toThrow(
      expect.objectContaining({ code: 'MESH_ERR_INJECT_INVALID_POD' }),
    )
    expect(() => inject({ metadata: {} } as PodTemplateSpec)).toThrow(
      expect.objectContaining({ code: 'MESH_ERR_INJECT_INVALID_POD' }),
    )
    const pod = productpagePod()
    pod.spec!.volumes!.push({ name: 'mesh-proxy-data', emptyDir: {} })
    expect(() => inject(pod)).toThrow(expect.objectContaining({ code: 'MESH_ERR_INJECT_CONFLICT' }))
  })
  it('bad config values', () => {
    expect(() => resolveInjectConfig({ statusPort: 70000 })).toThrow(
      expect.objectContaining({ code: 'MESH_ERR_INJECT_BAD_CONFIG' }),
    )
    expect(() => resolveInjectConfig({ discoveryAddress: 'meshd' })).toThrow(/host:port/)
  })
  it('uninject refuses a status annotation it did not write', () => {
    const pod = productpagePod()
    pod.metadata!.annotations = { 'sidecar.minimesh.dev/status': '{"containers":"mesh-proxy"}' }
    expect(() => uninject(pod)).toThrow(expect.objectContaining({ code: 'MESH_ERR_INJECT_BAD_STATUS' }))
  })
})
