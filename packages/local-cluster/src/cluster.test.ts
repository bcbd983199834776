// Manifests → pods, for real: a LocalCluster with its own bridge and ranges runs stand-in
// containers (testdata/echo-server.ts) from ordinary Kubernetes objects, and we check what a
// kubelet, kube-proxy, the endpoints controller and the Deployment controller would have done.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { get } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Pod, Service } from '@minimesh/api/kube'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { LocalCluster } from './cluster.ts'
import { silentLogger } from './log.ts'
import {
  canRunNetns,
  hostSnapshot,
  iptablesChanges,
  leftovers,
  processesMentioning,
} from './testdata/host-snapshot.ts'
import { ECHO_SERVER, standInImages } from './testdata/stand-ins.ts'

const skip = canRunNetns()

const namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo', labels: { team: 'a' } } }
const service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'echo', namespace: 'demo' },
  spec: { selector: { app: 'echo' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
}
function deployment(replicas: number, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'echo', namespace: 'demo' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'echo' } },
      template: {
        metadata: { labels: { app: 'echo', version: 'v1' } },
        spec: {
          serviceAccountName: 'echo-sa',
          volumes: [{ name: 'work', emptyDir: {} }],
          initContainers: [
            {
              name: 'prepare',
              image: 'test/shell:1',
              command: ['sh', '-c', 'echo "made by init as $(id -u)" > /work/init.txt'],
              volumeMounts: [{ name: 'work', mountPath: '/work' }],
            },
          ],
          containers: [
            {
              name: 'server',
              image: 'registry.local:5000/test/echo:1.0',
              args: ['--marker', '$(MY_MARK)'],
              ports: [{ name: 'http', containerPort: 8080 }],
              env: [
                { name: 'MY_MARK', value: 'mark-1' },
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
                {
                  name: 'SERVICE_ACCOUNT',
                  valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } },
                },
                {
                  name: 'LABEL_VERSION',
                  valueFrom: { fieldRef: { fieldPath: "metadata.labels['version']" } },
                },
                { name: 'ECHO_WORK', value: '/work/init.txt' },
                { name: 'READY_AFTER_MS', value: '300' },
              ],
              readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 1 },
              securityContext: { runAsUser: 1337, runAsGroup: 1337 },
              volumeMounts: [{ name: 'work', mountPath: '/work' }],
            },
          ],
        },
      },
      ...extra,
    },
  }
}
const client = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'client', namespace: 'demo' },
  spec: { containers: [{ name: 'main', image: 'test/echo', env: [{ name: 'PORT', value: '9090' }] }] },
}

/** GET on a new connection each time (DNAT picks an endpoint per connection). */
function fetchText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, timeout: 3000 }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => (text += d))
      res.on('end', () => resolve(text))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
  })
}

describe.skipIf(skip)(
  skip ? `LocalCluster with stand-in containers (skipped: ${skip})` : 'LocalCluster with stand-in containers',
  () => {
    const runDir = mkdtempSync(join(tmpdir(), 'mm-cluster-'))
    const before = hostSnapshot()
    let cluster: LocalCluster
    let clusterIp: string

    beforeAll(async () => {
      cluster = await LocalCluster.start({
        runDir,
        bridge: 'mmt2br',
        podCidr: '198.18.202.0/24',
        serviceCidr: '198.19.202.0/24',
        netnsPrefix: 'mmt2',
        linkPrefix: 'mt2',
        chainPrefix: 'MMT2',
        images: standInImages(),
        maxGraceSeconds: 2,
        logger: silentLogger(),
      })
      const results = await cluster.apply([namespace, service, deployment(2), client])
      expect(results.map((r) => r.action)).toEqual(['created', 'created', 'created', 'created'])
      await cluster.waitReady({ namespace: 'demo', timeoutMs: 20_000 })
      clusterIp = (cluster.get('svc', 'demo', 'echo')[0] as Service).spec.clusterIP ?? ''
    }, 40_000)

    afterAll(async () => {
      await cluster?.down().catch(() => {})
      rmSync(runDir, { recursive: true, force: true })
    })

    const echoPods = () =>
      cluster.get('pods', 'demo').filter((p) => p.metadata.labels?.app === 'echo') as Pod[]

    it('runs a Deployment as pods named after it, each in its own netns, ready behind its readiness probe', async () => {
      const pods = echoPods()
      expect(pods).toHaveLength(2)
      for (const p of pods) {
        expect(p.metadata.name).toMatch(/^echo-[a-z0-9]{10}-[a-z0-9]{5}$/)
        expect(p.metadata.labels?.['pod-template-hash']).toMatch(/^[a-z0-9]{10}$/)
        expect(p.status?.phase).toBe('Running')
        expect(p.status?.podIP).toMatch(/^198\.18\.202\.\d+$/)
        expect(
          (p.status!.conditions as { type: string; status: string }[]).find((c) => c.type === 'Ready')
            ?.status,
        ).toBe('True')
      }
      expect(cluster.get('pods', 'demo', undefined, 'app=echo,version in (v1)')).toHaveLength(2)
      expect(cluster.get('pods', 'demo', undefined, 'version!=v1').map((p) => p.metadata.name)).toEqual([
        'client',
      ])
      expect(cluster.readiness({ namespace: 'demo', selector: 'app=echo' }).items.map((i) => i.name)).toEqual(
        ['echo'],
      )
      // The Deployment's status follows its pods' readiness (as a controller's would), not in the same step.
      await expect
        .poll(() => cluster.get('deploy', 'demo', 'echo')[0]?.status, { timeout: 10_000 })
        .toMatchObject({ replicas: 2, readyReplicas: 2 })
    })

    it('fills env from the downward API, expands $(VAR) in args, runs as runAsUser, after the init container', async () => {
      const pod = echoPods()[0]!
      const info = JSON.parse(await fetchText(`http://${pod.status?.podIP}:8080/`)) as {
        hostname: string
        uid: number
        argv: string[]
        env: Record<string, string>
      }
      expect(info.uid).toBe(1337)
      expect(info.hostname).toBe(pod.metadata.name)
      expect(info.argv).toEqual(['--marker', 'mark-1'])
      expect(info.env).toMatchObject({
        POD_NAME: pod.metadata.name,
        POD_NAMESPACE: 'demo',
        POD_IP: pod.status?.podIP,
        SERVICE_ACCOUNT: 'echo-sa',
        LABEL_VERSION: 'v1',
      })
      // The init container (root) wrote into the shared emptyDir before the server started.
      const work = info.env.ECHO_WORK!
      expect(work).not.toBe('/work/init.txt')
      expect(await fetchText(`http://${pod.status?.podIP}:8080/file?path=${encodeURIComponent(work)}`)).toBe(
        'made by init as 0\n',
      )
    })

    it('keeps Endpoints, Pods and Services current in the state directory meshd watches', () => {
      const ep = parse(readFileSync(join(cluster.stateDir, 'endpoints/demo/echo.yaml'), 'utf8')) as {
        subsets: {
          addresses: { ip: string; targetRef: { name: string } }[]
          ports: { name: string; port: number }[]
        }[]
      }
      const ips = ep.subsets.flatMap((s) => s.addresses.map((a) => a.ip)).sort()
      expect(ips).toEqual(
        echoPods()
          .map((p) => p.status?.podIP)
          .sort(),
      )
      expect(ep.subsets[0]!.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }])
      const podFile = parse(
        readFileSync(join(cluster.stateDir, `pod/demo/${echoPods()[0]!.metadata.name}.yaml`), 'utf8'),
      ) as Pod
      expect(podFile.status?.podIP).toBe(echoPods()[0]!.status?.podIP)
      expect(podFile.metadata.labels?.app).toBe('echo')
      expect(existsSync(join(cluster.stateDir, 'namespace/_cluster/demo.yaml'))).toBe(true)
      const svc = parse(readFileSync(join(cluster.stateDir, 'service/demo/echo.yaml'), 'utf8')) as {
        spec: { clusterIP: string }
      }
      expect(svc.spec.clusterIP).toBe(clusterIp)
      expect(existsSync(join(cluster.stateDir, 'deployment'))).toBe(false)
    })

    it('balances the ClusterIP over both pods, from the host and from another pod by name', async () => {
      expect(clusterIp).toMatch(/^198\.19\.202\.\d+$/)
      const seen = new Set<string>()
      for (let i = 0; i < 30 && seen.size < 2; i++)
        seen.add((JSON.parse(await fetchText(`http://${clusterIp}/`)) as { hostname: string }).hostname)
      expect(seen.size).toBe(2)
      const r = await cluster.exec('demo', 'client', [
        process.execPath,
        '-e',
        "fetch('http://echo.demo.svc.cluster.local/').then(r=>r.json()).then(j=>console.log(j.hostname))",
      ])
      expect(r.code).toBe(0)
      expect(echoPods().map((p) => p.metadata.name)).toContain(r.stdout.trim())
      const env = await cluster.exec('demo', 'client', [
        'sh',
        '-c',
        'echo $ECHO_SERVICE_HOST:$ECHO_SERVICE_PORT $HOSTNAME',
      ])
      expect(env.stdout.trim()).toBe(`${clusterIp}:80 client`)
    })

    it('writes container logs to files', () => {
      const pod = echoPods()[0]!.metadata.name
      expect(cluster.logs('demo', pod)).toContain('echo-server listening on 8080 as uid 1337')
      expect(cluster.logs('demo', pod, 'prepare')).toBe('')
      expect(() => cluster.logs('demo', pod, 'nope')).toThrow(/choose one of: prepare, server/)
    })

    it('restarts a crashed container and takes it out of Endpoints until it is ready again', async () => {
      const pod = echoPods()[0]!
      await fetchText(`http://${pod.status?.podIP}:8080/crash`)
      const until = Date.now() + 10_000
      let restarted = false
      while (Date.now() < until && !restarted) {
        await new Promise((r) => setTimeout(r, 100))
        const p = cluster.get('pods', 'demo', pod.metadata.name)[0] as Pod
        const cs = (p.status!.containerStatuses as { restartCount: number; ready: boolean }[])[0]!
        restarted = cs.restartCount === 1
      }
      expect(restarted).toBe(true)
      // Restarted but not yet ready (READY_AFTER_MS): listed under notReadyAddresses, not served.
      const notReady = () =>
        (
          cluster.get('endpoints', 'demo', 'echo')[0] as unknown as {
            subsets: { notReadyAddresses?: { ip: string }[] }[]
          }
        ).subsets.some((s) => s.notReadyAddresses?.some((a) => a.ip === pod.status?.podIP))
      for (let i = 0; i < 50 && !notReady(); i++) await new Promise((r) => setTimeout(r, 20))
      expect(notReady()).toBe(true)
      await cluster.waitReady({ namespace: 'demo', timeoutMs: 15_000 })
      expect(notReady()).toBe(false)
      expect(JSON.parse(await fetchText(`http://${pod.status?.podIP}:8080/`)).hostname).toBe(
        pod.metadata.name,
      )
    }, 30_000)

    it('replaces a deleted pod and scales with replicas', async () => {
      const old = echoPods()[0]!.metadata.name
      await cluster.delete([{ kind: 'Pod', namespace: 'demo', name: old }])
      await cluster.waitReady({ namespace: 'demo', timeoutMs: 15_000 })
      expect(echoPods().map((p) => p.metadata.name)).not.toContain(old)
      expect(echoPods()).toHaveLength(2)
      expect((await cluster.apply([deployment(1)]))[0]!.action).toBe('configured')
      await cluster.waitReady({ namespace: 'demo', timeoutMs: 15_000 })
      expect(echoPods()).toHaveLength(1)
      expect((await cluster.apply([deployment(1)]))[0]!.action).toBe('unchanged')
    }, 40_000)

    it('refuses an image with no local entrypoint and a kind it does not run, changing nothing', async () => {
      const bad = deployment(1)
      bad.metadata.name = 'bad'
      bad.spec.template.spec.containers[0]!.image = 'docker.io/library/nginx:1.27'
      await expect(cluster.apply([bad])).rejects.toMatchObject({
        code: 'MESH_ERR_LOCAL_IMAGE',
        message: expect.stringMatching(/image "docker.io\/library\/nginx:1.27" has no local entrypoint/),
      })
      const job = {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: 'j', namespace: 'demo' },
        spec: {},
      }
      const cm = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'first', namespace: 'demo' },
        data: {},
      }
      await expect(cluster.apply([cm, job])).rejects.toMatchObject({
        code: 'MESH_ERR_LOCAL_KIND',
        message: expect.stringContaining('does not run CronJob'),
      })
      expect(cluster.get('cm', 'demo')).toEqual([])
      await expect(
        cluster.apply([{ ...service, metadata: { name: 'x', namespace: 'nowhere' } }]),
      ).rejects.toThrow(/namespace "nowhere" not found/)
    })

    it('down removes every netns, veth, bridge, rule, hosts file and process it made', async () => {
      const removed = await cluster.down()
      expect(removed.join(', ')).toMatch(/bridge mmt2br/)
      const after = hostSnapshot()
      expect(leftovers(before, after, ['mmt2', 'mt2', 'MMT2'])).toEqual([])
      expect(iptablesChanges(before, after, 'MMT2')).toEqual([])
      expect(processesMentioning(ECHO_SERVER)).toEqual([])
      expect(existsSync(join(runDir, 'ledger.json'))).toBe(false)
    })
  },
)
