// `meshctl install` / `meshctl uninstall` end to end through runCli, with the real manifest
// generator, against the fake API server (no cluster can run here; see testdata/fake-apiserver.ts).
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { KubeObject } from '@minimesh/api/kube'
import { generateCertificates } from '@minimesh/injector'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { meshctl } from '../testdata/meshctl.ts'
import { CERT_CHECKSUM_ANNOTATION, reusableCertificates, withGatewayNodePort } from './customize.ts'
import { type FakeApiServer, startFakeApiServer } from './testdata/fake-apiserver.ts'

const cli = (argv: string[]) => meshctl(argv)

function get(fake: FakeApiServer, kind: string, name: string): KubeObject | undefined {
  return [...fake.objects.values()].find((o) => o.kind === kind && o.metadata.name === name)
}

describe('meshctl install / uninstall', () => {
  let fake: FakeApiServer
  let kubeconfig: string
  beforeEach(async () => {
    fake = await startFakeApiServer()
    kubeconfig = join(mkdtempSync(join(tmpdir(), 'meshctl-install-')), 'config')
    writeFileSync(kubeconfig, fake.kubeconfig('kind-minimesh'))
  })
  afterEach(async () => {
    await fake.close()
  })

  it('installs everything, with progress, the gateway on node port 30080 and the caBundle of the serving certificate', async () => {
    const res = await cli([
      'install',
      '--kubeconfig',
      kubeconfig,
      '--gateway-node-port',
      '30080',
      '--timeout',
      '10s',
    ])
    expect(res.err).toBe('')
    expect(res.code).toBe(0)
    expect(res.out).toContain(`installing minimesh 0.1.0 into context "kind-minimesh" (${fake.url})`)
    expect(res.out).toContain('applied CustomResourceDefinition virtualservices.networking.istio.io')
    expect(res.out).toContain('applied Namespace minimesh-system')
    expect(res.out).toContain('deployment "meshd" successfully rolled out')
    expect(res.out).toContain('deployment "minimesh-ingressgateway" successfully rolled out')
    expect(res.out).toContain('label namespace default minimesh-injection=enabled')

    const svc = get(fake, 'Service', 'minimesh-ingressgateway')?.spec as {
      ports: { name: string; nodePort?: number }[]
    }
    expect(svc.ports.find((p) => p.name === 'http')?.nodePort).toBe(30080)
    const secret = get(fake, 'Secret', 'meshd-webhook-tls')?.data as Record<string, string>
    const mutating = get(fake, 'MutatingWebhookConfiguration', 'minimesh-sidecar-injector') as unknown as {
      webhooks: { clientConfig: { caBundle: string } }[]
    }
    expect(mutating.webhooks.length).toBeGreaterThan(0)
    for (const w of mutating.webhooks) expect(w.clientConfig.caBundle).toBe(secret['ca.crt'])
    const meshd = get(fake, 'Deployment', 'meshd') as unknown as {
      spec: { template: { metadata: { annotations: Record<string, string> } } }
    }
    expect(meshd.spec.template.metadata.annotations[CERT_CHECKSUM_ANNOTATION]).toMatch(/^[0-9a-f]{64}$/)
    const patches = fake.requests.filter((r) => r.method === 'PATCH')
    expect(patches.every((p) => p.query.fieldManager === 'meshctl' && p.query.force === 'true')).toBe(true)
  })

  it('a second install keeps the certificate (and so does not roll meshd)', async () => {
    await cli(['install', '--kubeconfig', kubeconfig, '--timeout', '10s'])
    const before = get(fake, 'Secret', 'meshd-webhook-tls')?.data
    const res = await cli(['install', '--kubeconfig', kubeconfig, '--timeout', '10s'])
    expect(res.code).toBe(0)
    expect(res.out).toContain('keeping the webhook certificate already in the cluster')
    expect(get(fake, 'Secret', 'meshd-webhook-tls')?.data).toEqual(before)
  })

  it("refuses Istio's CRDs with exit 1 and the conflict", async () => {
    fake.seed({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: {
        name: 'destinationrules.networking.istio.io',
        labels: { 'app.kubernetes.io/part-of': 'istio' },
      },
    })
    const res = await cli(['install', '--kubeconfig', kubeconfig])
    expect(res.code).toBe(1)
    expect(res.err).toContain('destinationrules.networking.istio.io (label app.kubernetes.io/part-of=istio)')
    expect(res.err).toContain('[MESH_ERR_INSTALL_CRD_CONFLICT]')
  })

  it('without permission to create CRDs: exit 1 naming the verb and the resource', async () => {
    fake.forbid('patch', 'customresourcedefinitions')
    const res = await cli(['install', '--kubeconfig', kubeconfig])
    expect(res.code).toBe(1)
    expect(res.err).toMatch(/cannot patch customresourcedefinitions\.apiextensions\.k8s\.io "\S+"/)
    expect(res.err).toContain('[MESH_ERR_INSTALL_FORBIDDEN]')
  })

  it('without a reachable cluster: exit 1 naming the context and what to do', async () => {
    const s = createServer()
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
    const port = (s.address() as { port: number }).port
    await new Promise<void>((r) => s.close(() => r()))
    writeFileSync(kubeconfig, fake.kubeconfig('kind-minimesh').replace(fake.url, `https://127.0.0.1:${port}`))
    const res = await cli(['install', '--kubeconfig', kubeconfig])
    expect(res.code).toBe(1)
    expect(res.err).toContain('context "kind-minimesh" (ECONNREFUSED)')
    expect(res.err).toContain('[MESH_ERR_INSTALL_NO_CLUSTER]')
  })

  it('bad flags are usage errors (exit 2)', async () => {
    const soon = await cli(['install', '--timeout', 'soon'])
    expect(soon.code).toBe(2)
    expect(soon.err).toContain('meshctl install: --timeout soon: not a duration (e.g. 90, 300s, 5m')
    const port = await cli(['install', '--gateway-node-port', '70000'])
    expect(port.code).toBe(2)
    expect(port.err).toContain('meshctl install: --gateway-node-port 70000: not a port (1–65535)')
    expect((await cli(['uninstall', '--timeout', 'later'])).code).toBe(2)
  })

  it('uninstall removes everything but the CRDs; --purge removes those too', async () => {
    await cli(['install', '--kubeconfig', kubeconfig, '--timeout', '10s'])
    const crds = [...fake.objects.values()].filter((o) => o.kind === 'CustomResourceDefinition').length
    expect(crds).toBeGreaterThan(0)
    const res = await cli(['uninstall', '--kubeconfig', kubeconfig, '--timeout', '10s'])
    expect(res.code).toBe(0)
    expect(res.out).toContain('deleted ValidatingWebhookConfiguration minimesh-validator')
    expect([...fake.objects.values()].map((o) => o.kind)).toEqual(
      Array(crds).fill('CustomResourceDefinition'),
    )
    expect((await cli(['uninstall', '--kubeconfig', kubeconfig, '--purge', '--timeout', '10s'])).code).toBe(0)
    expect(fake.objects.size).toBe(0)
  })
})

describe('customize', () => {
  it('reuses a certificate only while it is valid for 30 more days, for the host, and signed by the CA', async () => {
    const host = 'meshd.minimesh-system.svc'
    const secret = (b: { caCert: string; cert: string; key: string }): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      data: {
        'tls.crt': Buffer.from(b.cert).toString('base64'),
        'tls.key': Buffer.from(b.key).toString('base64'),
        'ca.crt': Buffer.from(b.caCert).toString('base64'),
      },
    })
    const good = await generateCertificates({ dnsNames: [host] })
    expect(reusableCertificates(secret(good), host)?.cert).toBe(good.cert)
    expect(reusableCertificates(secret(good), 'other.example')).toBeUndefined()
    expect(
      reusableCertificates(secret(await generateCertificates({ dnsNames: [host], validityDays: 10 })), host),
    ).toBeUndefined()
    const other = await generateCertificates({ dnsNames: [host] })
    expect(reusableCertificates(secret({ ...good, caCert: other.caCert }), host)).toBeUndefined()
    expect(reusableCertificates(undefined, host)).toBeUndefined()
  })
  it('withGatewayNodePort makes a ClusterIP Service NodePort and needs the gateway Service', () => {
    const svc: KubeObject = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'minimesh-ingressgateway' },
      spec: {
        ports: [
          { name: 'http', port: 80, targetPort: 8080 },
          { name: 'status-port', port: 15021 },
        ],
      },
    }
    const [out] = withGatewayNodePort([svc], 30080)
    expect(out?.spec).toEqual({
      type: 'NodePort',
      ports: [
        { name: 'http', port: 80, targetPort: 8080, nodePort: 30080 },
        { name: 'status-port', port: 15021 },
      ],
    })
    expect(() => withGatewayNodePort([], 30080)).toThrow(/no Service minimesh-ingressgateway/)
  })
})
