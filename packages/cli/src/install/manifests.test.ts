// The install manifests: every object well-formed and of a kind the local cluster runs, the webhook
// caBundle is the CA that signed the Secret's serving certificate, every image is in the image
// table, RBAC only reads, Services select the pods of their Deployments.
import { X509Certificate } from 'node:crypto'
import { allCrds, MESH_KINDS } from '@minimesh/api'
import type { KubeObject } from '@minimesh/api/kube'
import { containerArgv, defaultImageTable, kindOf, matchesSelector } from '@minimesh/local-cluster'
import { beforeAll, describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { runCli } from '../run.ts'
import { installManifests } from './manifests.ts'

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects of any kind, read loosely
type Obj = Record<string, any>

describe('install manifests', () => {
  let objects: Obj[]
  beforeAll(async () => {
    objects = (await installManifests()) as Obj[]
  })
  const find = (kind: string, name?: string) =>
    objects.filter((o) => o.kind === kind && (!name || o.metadata.name === name))

  it('are well-formed objects of kinds the local cluster runs, namespaced ones in minimesh-system', () => {
    expect(objects.length).toBeGreaterThan(10)
    for (const o of objects) {
      expect(o.apiVersion, JSON.stringify(o).slice(0, 80)).toMatch(/^([a-z0-9.]+\/)?v\d/)
      expect(o.metadata?.name).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/)
      const info = kindOf(o)
      if (info.namespaced) expect(o.metadata.namespace).toBe('minimesh-system')
      else expect(o.metadata.namespace).toBeUndefined()
    }
    const keys = objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`)
    expect(new Set(keys).size).toBe(keys.length)
    // The namespace comes before anything in it.
    const nsIndex = objects.findIndex((o) => o.kind === 'Namespace')
    expect(objects.findIndex((o) => o.metadata.namespace === 'minimesh-system')).toBeGreaterThan(nsIndex)
  })

  it('carry a CRD for every mesh kind, from @minimesh/api', () => {
    const crds = find('CustomResourceDefinition')
    expect(crds).toHaveLength(MESH_KINDS.length)
    expect(crds).toEqual(allCrds())
  })

  it('fill the webhook caBundle with the CA that signed the serving certificate in the Secret', () => {
    const secret = find('Secret', 'meshd-webhook-tls')[0]!
    expect(secret.type).toBe('kubernetes.io/tls')
    const cert = new X509Certificate(Buffer.from(secret.data['tls.crt'], 'base64'))
    expect(cert.checkHost('meshd.minimesh-system.svc')).toBe('meshd.minimesh-system.svc')
    const webhooks = [
      ...find('MutatingWebhookConfiguration'),
      ...find('ValidatingWebhookConfiguration'),
    ].flatMap((c) => c.webhooks as Obj[])
    expect(webhooks.length).toBeGreaterThanOrEqual(2)
    for (const w of webhooks) {
      expect(w.clientConfig.caBundle).toBeTruthy()
      const ca = new X509Certificate(Buffer.from(w.clientConfig.caBundle, 'base64'))
      expect(cert.verify(ca.publicKey), w.name).toBe(true)
      expect(w.clientConfig.service).toMatchObject({ name: 'meshd', namespace: 'minimesh-system', port: 443 })
    }
    const other = new X509Certificate(Buffer.from(secret.data['ca.crt'], 'base64'))
    expect(cert.verify(other.publicKey)).toBe(true)
  })

  it('use only images of the image table, each with a local entrypoint for its command', () => {
    const table = defaultImageTable()
    const pods = find('Deployment').map((d) => d.spec.template.spec as Obj)
    const containers = pods.flatMap((p) => [...(p.initContainers ?? []), ...p.containers])
    expect(containers.map((c) => c.image).sort()).toEqual(['minimesh/meshd:0.1.0', 'minimesh/proxy:0.1.0'])
    for (const c of containers) expect(() => containerArgv(table, c)).not.toThrow()
  })

  it('run meshd with the webhook certificate from the Secret and the gateway as the contract says', () => {
    const meshd = find('Deployment', 'meshd')[0]!.spec.template.spec
    const c = meshd.containers[0]
    expect(c.command).toEqual(['meshd'])
    const mount = c.volumeMounts[0].mountPath
    expect(c.args).toEqual(['--webhook-cert', `${mount}/tls.crt`, '--webhook-key', `${mount}/tls.key`])
    expect(meshd.volumes[0].secret.secretName).toBe('meshd-webhook-tls')
    const svc = find('Service', 'meshd')[0]!
    expect(svc.spec.ports.map((p: Obj) => `${p.name}:${p.port}->${p.targetPort}`)).toEqual([
      'grpc-xds:15010->15010',
      'grpc-xds-tls:15012->15012',
      'http-monitoring:15014->15014',
      'https-webhook:443->15017',
    ])
    const gw = find('Deployment', 'minimesh-ingressgateway')[0]!
    expect(gw.spec.template.metadata.labels.minimesh).toBe('ingressgateway')
    // The injector's gateway template gives it the mesh identity (meshd's root exists only at run time).
    expect(gw.spec.template.metadata.labels['sidecar.minimesh.dev/template']).toBe('gateway')
    expect(gw.spec.template.metadata.labels['sidecar.minimesh.dev/inject']).toBeUndefined()
    expect(gw.spec.template.spec.serviceAccountName).toBe('minimesh-ingressgateway')
    const proxy = gw.spec.template.spec.containers[0]
    expect(proxy.command).toEqual(['mesh-proxy'])
    expect(proxy.args).toEqual(['router', '--discovery-address', 'meshd.minimesh-system.svc:15010'])
    expect(proxy.ports.find((p: Obj) => p.containerPort === 8080)?.name).toBe('http')
  })

  it("give meshd read-only RBAC on exactly what it watches, its resources' status, TokenReviews, and its CA Secrets", () => {
    const role = find('ClusterRole')[0]!
    const isStatus = (r: Obj) => r.resources.every((x: string) => x.endsWith('/status'))
    const [reads, others, status] = [
      role.rules.filter((r: Obj) => r.apiGroups[0] !== 'authentication.k8s.io' && !isStatus(r)),
      role.rules.filter((r: Obj) => r.apiGroups[0] === 'authentication.k8s.io'),
      role.rules.filter(isStatus),
    ]
    expect(others).toEqual([
      { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
    ])
    // Status only: meshd writes each mesh resource's outcome, never its spec.
    for (const r of status) expect(r.verbs).toEqual(['get', 'patch', 'update'])
    expect(
      status.flatMap((r: Obj) => r.resources.map((x: string) => `${r.apiGroups[0]}/${x}`)).sort(),
    ).toEqual(MESH_KINDS.map((k) => `${k.group}/${k.plural}/status`).sort())
    for (const r of reads) expect(r.verbs).toEqual(['get', 'list', 'watch'])
    const resources = reads
      .flatMap((r: Obj) => r.apiGroups.map((g: string) => r.resources.map((x: string) => `${g}/${x}`)))
      .flat()
      .sort()
    expect(resources).toEqual(
      [
        '/endpoints',
        '/namespaces',
        '/pods',
        '/secrets',
        '/services',
        'discovery.k8s.io/endpointslices',
        ...MESH_KINDS.map((k) => `${k.group}/${k.plural}`),
      ].sort(),
    )
    const binding = find('ClusterRoleBinding')[0]!
    expect(binding.roleRef.name).toBe(role.metadata.name)
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'meshd', namespace: 'minimesh-system' },
    ])
    expect(find('ServiceAccount', 'meshd')).toHaveLength(1)
    const secrets = find('Role')[0]!
    expect(secrets.metadata.namespace).toBe('minimesh-system')
    expect(secrets.rules).toEqual([
      {
        apiGroups: [''],
        resources: ['secrets'],
        resourceNames: ['minimesh-ca', 'cacerts'],
        verbs: ['get', 'update'],
      },
      { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
    ])
    const rb = find('RoleBinding')[0]!
    expect(rb.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: secrets.metadata.name,
    })
    expect(rb.subjects).toEqual([{ kind: 'ServiceAccount', name: 'meshd', namespace: 'minimesh-system' }])
  })

  it('have Services that select their Deployments’ pods and Deployments whose selectors match their templates', () => {
    for (const d of find('Deployment')) {
      expect(matchesSelector(d.spec.selector, d.spec.template.metadata.labels)).toBe(true)
    }
    for (const s of find('Service')) {
      const sel = s.spec.selector as Record<string, string>
      expect(
        find('Deployment').some((d) =>
          Object.entries(sel).every(([k, v]) => d.spec.template.metadata.labels[k] === v),
        ),
        s.metadata.name,
      ).toBe(true)
    }
  })

  it('`meshctl manifest generate` prints them as multi-document YAML', async () => {
    const out: string[] = []
    const io = { out: (t: string) => out.push(t), err: () => {}, stdin: process.stdin, cwd: process.cwd() }
    expect(await runCli(['manifest', 'generate'], io)).toBe(0)
    const docs = parseAllDocuments(out.join('')).map((d) => d.toJS() as KubeObject)
    expect(docs.map((d) => d.kind)).toEqual(objects.map((o) => o.kind))
    expect(await runCli(['manifest', 'frobnicate'], { ...io, err: () => {} })).toBe(2)
  })
})
