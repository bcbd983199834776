// The admission path against a real HTTPS webhook: @minimesh/injector's server with certificates
// from its generateCertificates(), reached through a Service whose Endpoints point at it. Pods of
// a labelled namespace are injected (JSONPatch applied), mesh-init runs for real in the pod netns,
// the sidecar runs as 1337; mesh resources go through the validating webhook; a caBundle that did
// not sign the serving certificate fails the call.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { get } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Pod } from '@minimesh/api/kube'
import {
  createWebhookServer,
  generateCertificates,
  type WebhookServer,
  webhookConfigurations,
} from '@minimesh/injector'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalCluster } from '../cluster.ts'
import { silentLogger } from '../log.ts'
import { canRunNetns } from '../testdata/host-snapshot.ts'
import { proxyImageWithStandInSidecar, standInImages } from '../testdata/stand-ins.ts'
import { MESHD_SERVICE, meshdServiceAt } from '../testdata/webhook.ts'

const skip = canRunNetns()

function getJson(url: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false, timeout: 3000 }, (res) => {
      let t = ''
      res.on('data', (d) => (t += d))
      res.on('end', () => resolve(JSON.parse(t) as Record<string, unknown>))
    }).on('error', reject)
  })
}

const app = (ns: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'app', namespace: ns },
  spec: {
    selector: { matchLabels: { app: 'app' } },
    template: {
      metadata: { labels: { app: 'app', version: 'v1' } },
      spec: { containers: [{ name: 'app', image: 'test/echo', ports: [{ containerPort: 8080 }] }] },
    },
  },
})

const virtualService = (extra: Record<string, unknown> = {}) => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name: 'reviews', namespace: 'mesh' },
  spec: {
    hosts: ['reviews'],
    http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' } }] }],
    ...extra,
  },
})

describe.skipIf(skip)(
  skip
    ? `admission through the injector webhook (real HTTPS) (skipped: ${skip})`
    : 'admission through the injector webhook (real HTTPS)',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'mm-admission-'))
    let server: WebhookServer
    let cluster: LocalCluster
    let caCert: string

    beforeAll(async () => {
      const certs = await generateCertificates()
      caCert = certs.caCert
      writeFileSync(join(dir, 'tls.crt'), certs.cert)
      writeFileSync(join(dir, 'tls.key'), certs.key)
      server = createWebhookServer({
        certFile: join(dir, 'tls.crt'),
        keyFile: join(dir, 'tls.key'),
        logger: silentLogger(),
      })
      const addr = await server.listen(0, '127.0.0.1')
      cluster = await LocalCluster.start({
        runDir: join(dir, 'run'),
        bridge: 'mmt3br',
        podCidr: '198.18.203.0/24',
        serviceCidr: '198.19.203.0/24',
        netnsPrefix: 'mmt3',
        linkPrefix: 'mt3',
        chainPrefix: 'MMT3',
        images: [...standInImages(), proxyImageWithStandInSidecar()],
        maxGraceSeconds: 2,
        logger: silentLogger(),
      })
      const { mutating, validating } = webhookConfigurations({
        caBundle: certs.caCert,
        service: MESHD_SERVICE,
      })
      await cluster.apply([
        ...meshdServiceAt(addr.port),
        mutating,
        validating,
        {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: 'mesh', labels: { 'minimesh-injection': 'enabled' } },
        },
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'plain' } },
        app('mesh'),
        app('plain'),
      ])
      await cluster.waitReady({ timeoutMs: 30_000 })
    }, 60_000)

    afterAll(async () => {
      await cluster?.down().catch(() => {})
      await server?.close()
      rmSync(dir, { recursive: true, force: true })
    })

    const podIn = (ns: string) => cluster.get('pods', ns)[0] as Pod

    it('injects pods of a labelled namespace and leaves the others alone', () => {
      const meshed = podIn('mesh')
      // Classic placement (the webhook's default config): the proxy first, holding the app.
      expect(meshed.spec.containers.map((c) => c.name)).toEqual(['mesh-proxy', 'app'])
      expect(meshed.spec.initContainers?.map((c) => c.name)).toEqual(['mesh-init'])
      expect(meshed.metadata.annotations?.['sidecar.minimesh.dev/status']).toBeDefined()
      const plain = podIn('plain')
      expect(plain.spec.containers.map((c) => c.name)).toEqual(['app'])
      expect(plain.spec.initContainers).toBeUndefined()
      expect(server.stats().injected).toBeGreaterThanOrEqual(1)
    })

    it('ran mesh-init to completion in the pod netns: the capture rules are there', () => {
      const status = podIn('mesh').status as {
        initContainerStatuses: { name: string; state: { terminated?: { exitCode: number } } }[]
      }
      expect(status.initContainerStatuses[0]!.state.terminated?.exitCode).toBe(0)
      const netns = cluster.execSpec('mesh', podIn('mesh').metadata.name, 'mesh-proxy').netns!
      const rules = execFileSync('ip', ['netns', 'exec', netns, 'iptables-save', '-t', 'nat'], {
        encoding: 'utf8',
      })
      expect(rules).toMatch(/-A MESH_REDIRECT -p tcp .*-j REDIRECT --to-ports 15001/)
      expect(rules).toMatch(/-A MESH_OUTPUT -m owner --uid-owner 1337 .*-j RETURN/)
    })

    it('runs the sidecar as uid 1337 with the downward API env the injector asked for', async () => {
      const pod = podIn('mesh')
      const who = (await getJson(`http://${pod.status?.podIP}:15020/`)) as {
        uid: number
        argv: string[]
        env: Record<string, string>
      }
      expect(who.uid).toBe(1337)
      expect(who.argv).toEqual([
        'sidecar',
        '--discovery-address',
        'meshd.minimesh-system.svc:15010',
        ...['--outbound-port', '15001', '--inbound-port', '15006', '--stats-port', '15020'],
        ...['--health-port', '15021', '--prom-port', '15090'],
      ])
      expect(who.env).toMatchObject({
        POD_NAME: pod.metadata.name,
        POD_NAMESPACE: 'mesh',
        INSTANCE_IP: pod.status?.podIP,
        SERVICE_ACCOUNT: 'default',
        MESH_WORKLOAD_NAME: 'app',
      })
    })

    it('denies an invalid mesh resource with the webhook reason and stores nothing', async () => {
      const bad = virtualService({ tcp: [{ bogus: true }] })
      const err = await cluster.apply([virtualService({ hosts: ['ratings'] }), bad]).catch((e: unknown) => e)
      // The webhook's own code (400 BadRequest for an invalid resource), as the API server answers.
      expect(err).toMatchObject({ code: 'MESH_ERR_LOCAL_ADMISSION_DENIED', status: 400 })
      expect((err as Error).message).toMatch(
        /^admission webhook "validation.minimesh.dev" denied the request: .*tcp/,
      )
      expect(cluster.get('virtualservices', 'mesh')).toEqual([])
      const ok = await cluster.apply([virtualService()])
      expect(ok[0]!.action).toBe('created')
      expect(cluster.get('vs', 'mesh')).toHaveLength(1)
    })

    it('fails the call when the caBundle did not sign the serving certificate', async () => {
      const other = await generateCertificates()
      const { validating } = webhookConfigurations({
        caBundle: other.caCert,
        service: MESHD_SERVICE,
      })
      await cluster.apply([validating])
      const err = await cluster.apply([virtualService({ hosts: ['details'] })]).catch((e: unknown) => e)
      expect(err).toMatchObject({ code: 'MESH_ERR_LOCAL_WEBHOOK' })
      expect((err as Error).message).toMatch(
        /failed calling webhook "validation.minimesh.dev": .*(certificate|self.signed|verify)/i,
      )
      // Put the right CA back: the same apply passes.
      await cluster.apply([webhookConfigurations({ caBundle: caCert, service: MESHD_SERVICE }).validating])
      expect((await cluster.apply([virtualService({ hosts: ['details'] })]))[0]!.action).toBe('configured')
    })
  },
)
