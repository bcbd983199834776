// Container lifecycle as the kubelet runs it, for real (stand-in containers in a netns): native
// sidecars (init containers with restartPolicy Always) start in order and gate the next one behind
// their startupProbe, are restarted whatever the pod's policy, stop after the containers (also when
// a Job-like pod completes); postStart holds the next container; preStop runs before SIGTERM.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Pod } from '@minimesh/api/kube'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalCluster } from '../cluster.ts'
import { silentLogger } from '../log.ts'
import { canRunNetns } from '../testdata/host-snapshot.ts'
import { standInImages } from '../testdata/stand-ins.ts'

const skip = canRunNetns()
const NS = 'life'

type Status = {
  phase: string
  initContainerStatuses: {
    name: string
    ready: boolean
    restartCount: number
    started: boolean
    state: Record<string, unknown>
  }[]
  containerStatuses: { name: string; ready: boolean; state: Record<string, unknown> }[]
}

describe.skipIf(skip)(
  skip ? `pod lifecycle (skipped: ${skip})` : 'pod lifecycle: native sidecars, hooks, ordering',
  () => {
    const runDir = mkdtempSync(join(tmpdir(), 'mm-life-'))
    const marks = mkdtempSync(join(tmpdir(), 'mm-life-marks-'))
    let cluster: LocalCluster
    const status = (name: string) =>
      (cluster.get('pods', NS, name)[0] as Pod | undefined)?.status as Status | undefined
    const mark = (name: string) => join(marks, name)
    /** A shell container that writes `<name> <ns since epoch>` to marks/<file> (appending). */
    const stamp = (file: string, what: string) => `echo "${what} $(date +%s%N)" >> ${mark(file)}`
    const sidecar = (name: string, extra: Record<string, unknown> = {}) => ({
      name,
      image: 'test/echo',
      restartPolicy: 'Always',
      env: [
        { name: 'PORT', value: '9090' },
        { name: 'READY_AFTER_MS', value: '800' },
      ],
      startupProbe: { httpGet: { path: '/ready', port: 9090 }, periodSeconds: 1, failureThreshold: 30 },
      ...extra,
    })

    beforeAll(async () => {
      cluster = await LocalCluster.start({
        runDir,
        bridge: 'mmt6br',
        podCidr: '198.18.206.0/24',
        serviceCidr: '198.19.206.0/24',
        netnsPrefix: 'mmt6',
        linkPrefix: 'mt6',
        chainPrefix: 'MMT6',
        images: standInImages(),
        maxGraceSeconds: 3,
        logger: silentLogger(),
      })
      await cluster.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }])
    }, 40_000)

    afterAll(async () => {
      await cluster?.down().catch(() => {})
      rmSync(runDir, { recursive: true, force: true })
      rmSync(marks, { recursive: true, force: true })
    })

    it('a native sidecar gates the next init container behind its startupProbe; the pod completes and the sidecar is stopped', async () => {
      const node = process.execPath
      await cluster.apply([
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'job', namespace: NS },
          spec: {
            restartPolicy: 'Never',
            initContainers: [
              sidecar('side'),
              {
                name: 'after',
                image: 'test/shell',
                // Fails unless the sidecar already answers /ready (it takes 800 ms to).
                command: [
                  node,
                  '-e',
                  "fetch('http://127.0.0.1:9090/ready').then(r=>process.exit(r.status===200?0:1),()=>process.exit(2))",
                ],
              },
            ],
            containers: [
              {
                name: 'main',
                image: 'test/shell',
                command: [
                  node,
                  '-e',
                  "fetch('http://127.0.0.1:9090/').then(r=>process.exit(r.status===200?0:1),()=>process.exit(2))",
                ],
              },
            ],
          },
        },
      ])
      await expect.poll(() => status('job')?.phase, { timeout: 20_000, interval: 100 }).toBe('Succeeded')
      const s = status('job')!
      expect(s.initContainerStatuses.find((c) => c.name === 'after')!.state).toMatchObject({
        terminated: { exitCode: 0 },
      })
      expect(s.containerStatuses[0]!.state).toMatchObject({ terminated: { exitCode: 0 } })
      // Stopped, not left running beside a completed pod.
      expect(s.initContainerStatuses.find((c) => c.name === 'side')!.state).toHaveProperty('terminated')
      // A pod that ran to completion is not waited on.
      expect(cluster.readiness({ namespace: NS }).items.find((i) => i.name === 'job')).toBeUndefined()
    }, 30_000)

    it('a failing container fails the pod; its sidecar is stopped all the same', async () => {
      await cluster.apply([
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'fails', namespace: NS },
          spec: {
            restartPolicy: 'Never',
            initContainers: [sidecar('side', { env: [{ name: 'PORT', value: '9090' }] })],
            containers: [{ name: 'main', image: 'test/shell', command: ['sh', '-c', 'exit 3'] }],
          },
        },
      ])
      await expect.poll(() => status('fails')?.phase, { timeout: 20_000, interval: 100 }).toBe('Failed')
      expect(status('fails')!.initContainerStatuses[0]!.state).toHaveProperty('terminated')
    }, 30_000)

    it('restarts a sidecar that exits although the pod says Never; readiness counts the sidecar', async () => {
      await cluster.apply([
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'long', namespace: NS },
          spec: {
            restartPolicy: 'Never',
            initContainers: [
              sidecar('side', {
                env: [{ name: 'PORT', value: '9090' }],
                readinessProbe: { httpGet: { path: '/ready', port: 9090 }, periodSeconds: 1 },
              }),
            ],
            containers: [{ name: 'main', image: 'test/shell', command: ['sh', '-c', 'sleep 600'] }],
          },
        },
      ])
      await expect
        .poll(() => cluster.readiness({ namespace: NS }).items.find((i) => i.name === 'long')?.ready, {
          timeout: 20_000,
        })
        .toBe(1)
      const ip = (cluster.get('pods', NS, 'long')[0] as Pod).status!.podIP
      await fetch(`http://${ip}:9090/crash`).catch(() => {})
      await expect
        .poll(() => status('long')!.initContainerStatuses[0]!.restartCount, {
          timeout: 10_000,
          interval: 100,
        })
        .toBe(1)
      expect(status('long')!.phase).toBe('Running')
      await expect.poll(() => status('long')!.initContainerStatuses[0]!.ready, { timeout: 15_000 }).toBe(true)
      // exec reaches the sidecar by name, as kubectl exec -c does.
      expect((await cluster.exec(NS, 'long', ['sh', '-c', 'echo hi'], { container: 'side' })).stdout).toBe(
        'hi\n',
      )
    }, 60_000)

    it('deleting a pod stops the containers first (preStop, then SIGTERM), then the sidecars in reverse order', async () => {
      const trapped = (file: string, what: string, delay: string) =>
        // (The kubelet's stand-in signals the process and its group: the trap disarms itself.)
        `trap 'trap "" TERM; ${stamp(file, `${what}-term`)}; sleep ${delay}; ${stamp(file, `${what}-exit`)}; exit 0' TERM; while :; do sleep 0.05; done`
      await cluster.apply([
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'order', namespace: NS },
          spec: {
            initContainers: [
              {
                name: 's1',
                image: 'test/shell',
                restartPolicy: 'Always',
                command: ['sh', '-c', trapped('order', 's1', '0')],
              },
              {
                name: 's2',
                image: 'test/shell',
                restartPolicy: 'Always',
                command: ['sh', '-c', trapped('order', 's2', '0')],
              },
            ],
            containers: [
              {
                name: 'app',
                image: 'test/shell',
                command: ['sh', '-c', trapped('order', 'app', '0.5')],
                lifecycle: { preStop: { exec: { command: ['sh', '-c', stamp('order', 'app-prestop')] } } },
              },
            ],
          },
        },
      ])
      await expect
        .poll(() => status('order')?.containerStatuses?.[0]?.state, { timeout: 20_000 })
        .toHaveProperty('running')
      await new Promise((r) => setTimeout(r, 300))
      await cluster.delete([{ kind: 'Pod', namespace: NS, name: 'order' }])
      const events = readFileSync(mark('order'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(' ')[0])
      expect(events).toEqual([
        'app-prestop',
        'app-term',
        'app-exit',
        's2-term',
        's2-exit',
        's1-term',
        's1-exit',
      ])
    }, 40_000)

    it('a Job runs a pod to completion (its native sidecar does not hold it) and retries failures up to backoffLimit', async () => {
      const job = (name: string, command: string, backoffLimit?: number) => ({
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name, namespace: NS },
        spec: {
          ...(backoffLimit !== undefined ? { backoffLimit } : {}),
          template: {
            metadata: { labels: { app: name } },
            spec: {
              restartPolicy: 'Never',
              initContainers: [sidecar('side', { env: [{ name: 'PORT', value: '9090' }] })],
              containers: [{ name: 'main', image: 'test/shell', command: ['sh', '-c', command] }],
            },
          },
        },
      })
      await cluster.apply([job('ok', 'exit 0'), job('bad', 'exit 1', 1)])
      const jobStatus = (name: string) => cluster.get('jobs', NS, name)[0]?.status as Record<string, unknown>
      await expect
        .poll(() => jobStatus('ok'), { timeout: 20_000, interval: 200 })
        .toMatchObject({ succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] })
      const okPods = cluster.get('pods', NS, undefined, 'job-name=ok') as Pod[]
      expect(okPods).toHaveLength(1)
      expect(okPods[0]!.metadata.name).toMatch(/^ok-[a-z0-9]{5}$/)
      expect(okPods[0]!.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Job', name: 'ok' })
      expect(okPods[0]!.status?.phase).toBe('Succeeded')
      await expect
        .poll(() => jobStatus('bad'), { timeout: 30_000, interval: 200 })
        .toMatchObject({ failed: 2, conditions: [{ type: 'Failed', reason: 'BackoffLimitExceeded' }] })
      expect(cluster.get('pods', NS, undefined, 'job-name=bad')).toHaveLength(2)
      // A completed Job's pods are not waited on.
      expect(cluster.readiness({ namespace: NS, selector: 'app=ok' }).items).toEqual([])
      await cluster.delete([
        { kind: 'Job', namespace: NS, name: 'ok' },
        { kind: 'Job', namespace: NS, name: 'bad' },
      ])
      expect(cluster.get('pods', NS, undefined, 'job-name')).toHaveLength(0)
    }, 60_000)

    it('a rolling update keeps a ready pod at every moment (maxUnavailable 0)', async () => {
      const deploy = (restartedAt: string) => ({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'roll', namespace: NS },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'roll' } },
          template: {
            metadata: { labels: { app: 'roll' }, annotations: { restartedAt } },
            spec: {
              containers: [
                {
                  name: 'server',
                  image: 'test/echo',
                  env: [{ name: 'READY_AFTER_MS', value: '1000' }],
                  readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 1 },
                },
              ],
            },
          },
        },
      })
      await cluster.apply([deploy('first')])
      await cluster.waitReady({ namespace: NS, selector: 'app=roll', timeoutMs: 20_000 })
      const first = cluster.get('pods', NS, undefined, 'app=roll')[0]!.metadata.name
      await cluster.apply([deploy('second')])
      let minReady = Number.POSITIVE_INFINITY
      const until = Date.now() + 20_000
      for (;;) {
        const pods = cluster.get('pods', NS, undefined, 'app=roll') as Pod[]
        const ready = pods.filter(
          (p) =>
            !p.metadata.deletionTimestamp &&
            (p.status?.conditions as { type: string; status: string }[])?.some(
              (c) => c.type === 'Ready' && c.status === 'True',
            ),
        )
        minReady = Math.min(minReady, ready.length)
        if (
          (pods.length === 1 && pods[0]!.metadata.name !== first && ready.length === 1) ||
          Date.now() > until
        )
          break
        await new Promise((r) => setTimeout(r, 50))
      }
      expect(minReady).toBe(1)
      const now = cluster.get('pods', NS, undefined, 'app=roll') as Pod[]
      expect(now.map((p) => p.metadata.name)).not.toContain(first)
      await cluster.delete([{ kind: 'Deployment', namespace: NS, name: 'roll' }])
    }, 60_000)

    it('postStart holds the next container until it returns', async () => {
      await cluster.apply([
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'held', namespace: NS },
          spec: {
            containers: [
              {
                name: 'first',
                image: 'test/shell',
                command: ['sh', '-c', `${stamp('held', 'first-start')}; sleep 600`],
                lifecycle: {
                  postStart: {
                    exec: { command: ['sh', '-c', `sleep 1; ${stamp('held', 'first-poststart-done')}`] },
                  },
                },
              },
              {
                name: 'second',
                image: 'test/shell',
                command: ['sh', '-c', `${stamp('held', 'second-start')}; sleep 600`],
              },
            ],
          },
        },
      ])
      await expect
        .poll(() => existsSync(mark('held')) && readFileSync(mark('held'), 'utf8').includes('second-start'), {
          timeout: 20_000,
        })
        .toBe(true)
      const lines = readFileSync(mark('held'), 'utf8').trim().split('\n')
      expect(lines.map((l) => l.split(' ')[0])).toEqual([
        'first-start',
        'first-poststart-done',
        'second-start',
      ])
      await cluster.delete([{ kind: 'Pod', namespace: NS, name: 'held' }])
    }, 40_000)
  },
)
