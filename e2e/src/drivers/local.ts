/**
 * The local driver: the e2e suite on minimesh's local cluster (every pod a network namespace on
 * this host), driven exactly as a user drives it — a background supervisor started like
 * `meshctl local up`, the install manifests `meshctl manifest generate` makes, and the same
 * client calls `meshctl local apply|delete|get|exec|logs` use. Needs root.
 */
import { installManifests, LocalTarget, waitForSync } from '@minimesh/cli'
import { LocalClusterClient, startSupervisor, stopSupervisor } from '@minimesh/local-cluster'
import { parseAllDocuments } from 'yaml'
import type { ClusterDriver, ExecResult, JobStatus, PodRef } from '../driver.ts'
import { runMeshctl } from '../meshctl.ts'
import { parsePodLoad, podLoadArgv } from '../pod-load.ts'

const RUN_DIR = process.env.MINIMESH_E2E_RUN_DIR ?? '/var/run/minimesh-e2e'

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleBinding',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
])

function parse(yaml: string, namespace?: string): Record<string, unknown>[] {
  return parseAllDocuments(yaml)
    .map((d) => d.toJS() as Record<string, unknown> | null)
    .filter((o): o is Record<string, unknown> => !!o && typeof o === 'object')
    .map((o) => {
      const meta = (o.metadata ?? {}) as Record<string, unknown>
      if (namespace && !meta.namespace && !CLUSTER_SCOPED.has(String(o.kind)))
        o.metadata = { ...meta, namespace }
      return o
    })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export class LocalDriver implements ClusterDriver {
  readonly name = 'local' as const
  private client = new LocalClusterClient(RUN_DIR)
  private readonly target = new LocalTarget(RUN_DIR)

  async setup(): Promise<void> {
    if (process.getuid?.() !== 0)
      throw new Error('the local e2e suite needs root (network namespaces, iptables): run it as root')
    await stopSupervisor(RUN_DIR) // an earlier run that crashed leaves nothing behind
    this.client = await startSupervisor({ runDir: RUN_DIR })
    await this.client.apply(await installManifests())
    await this.client.waitReady({ namespace: 'minimesh-system', timeoutMs: 180_000 })
    await this.client.apply(
      parse(
        'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: default\n  labels:\n    minimesh-injection: enabled\n',
      ),
    )
  }

  async apply(yaml: string, namespace?: string): Promise<void> {
    await this.client.apply(parse(yaml, namespace))
  }

  async delete(yaml: string, namespace?: string): Promise<void> {
    const refs = parse(yaml, namespace).map((o) => {
      const meta = o.metadata as { name: string; namespace?: string }
      return {
        kind: String(o.kind),
        name: meta.name,
        ...(meta.namespace ? { namespace: meta.namespace } : {}),
      }
    })
    await this.client.delete(refs, { ignoreNotFound: true })
  }

  async pods(namespace: string, selector: string): Promise<PodRef[]> {
    const items = await this.client.get('pods', namespace, undefined, selector)
    return items.map((p) => ({ namespace, name: String((p.metadata as { name: string }).name) }))
  }

  private async podIp(pod: PodRef): Promise<string> {
    const [p] = await this.client.get('pods', pod.namespace, pod.name)
    const ip = (p?.status as { podIP?: string } | undefined)?.podIP
    if (!ip) throw new Error(`pod ${pod.namespace}/${pod.name} has no IP`)
    return ip
  }

  async exec(pod: PodRef, argv: string[], container?: string): Promise<ExecResult> {
    const r = await this.client.exec(pod.namespace, pod.name, argv, {
      ...(container ? { container } : {}),
      timeoutMs: 60_000,
    })
    return { code: r.code ?? 1, stdout: r.stdout, stderr: r.stderr }
  }

  async gatewayUrl(): Promise<string> {
    return this.client.gatewayUrl()
  }

  async waitReady(namespace: string, selector: string, timeoutMs = 120_000): Promise<void> {
    await this.client.waitReady({ namespace, selector, timeoutMs })
  }

  async logs(pod: PodRef, container?: string): Promise<string> {
    return this.client.logs(pod.namespace, pod.name, container)
  }

  async fetchFromPod(
    pod: PodRef,
    url: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: string }> {
    // Runs in the pod's app container (as its user, so the sidecar captures the request).
    const script = `fetch(${JSON.stringify(url)}, { headers: ${JSON.stringify(headers)} }).then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.text() })), (e) => console.log(JSON.stringify({ status: 0, body: String(e) })))`
    const r = await this.exec(pod, [process.execPath, '-e', script])
    const line = r.stdout.trim().split('\n').at(-1) ?? ''
    try {
      return JSON.parse(line) as { status: number; body: string }
    } catch {
      throw new Error(`fetch from ${pod.name} printed no result (exit ${r.code}): ${r.stderr.slice(0, 400)}`)
    }
  }

  async loadFromPod(pod: PodRef, url: string, count: number, concurrency: number) {
    const r = await this.exec(pod, podLoadArgv(process.execPath, url, count, concurrency))
    return parsePodLoad(r.stdout, `${pod.name} (exit ${r.code}: ${r.stderr.slice(0, 200)})`)
  }

  meshctl(args: string[]): Promise<ExecResult> {
    return runMeshctl([...args, '--local', '--run-dir', RUN_DIR])
  }

  async waitConfigPropagated(timeoutMs = 30_000): Promise<void> {
    // What `meshctl local wait --for=sync` does: meshd has read every mesh resource the cluster
    // holds, at its resourceVersion, and every proxy has ACKed the snapshot made of them. (A fixed
    // pause before looking at the proxies missed changes meshd had not read yet on a loaded host.)
    const err: string[] = []
    const io = {
      out: () => {},
      err: (t: string) => void err.push(t),
      stdin: process.stdin,
      cwd: process.cwd(),
    }
    try {
      await waitForSync(this.target, io, timeoutMs)
    } catch (e) {
      throw new Error(
        `proxies did not get the newest configuration within ${timeoutMs} ms: ${(e as Error).message}\n${err.slice(-5).join('')}`,
      )
    }
  }

  async restartControlPlane(): Promise<void> {
    const [meshd] = await this.pods('minimesh-system', 'app=meshd')
    if (!meshd) throw new Error('no meshd pod in minimesh-system')
    await this.client.delete([{ kind: 'Pod', namespace: meshd.namespace, name: meshd.name }])
    await sleep(500)
    await this.waitReady('minimesh-system', 'app=meshd', 60_000)
  }

  async proxyMetrics(pod: PodRef): Promise<string> {
    const res = await fetch(`http://${await this.podIp(pod)}:15020/stats/prometheus`)
    if (!res.ok) throw new Error(`metrics of ${pod.name}: HTTP ${res.status}`)
    return res.text()
  }

  async jobStatus(namespace: string, name: string): Promise<JobStatus | undefined> {
    const [job] = await this.client.get('jobs', namespace, name)
    return job?.status as JobStatus | undefined
  }

  async rolloutRestart(namespace: string, name: string): Promise<void> {
    // As kubectl rollout restart: a pod template annotation changes, so the template hash does.
    const [d] = await this.client.get('deployments', namespace, name)
    if (!d) throw new Error(`deployment ${namespace}/${name} not found`)
    const last = JSON.parse(
      (d.metadata as { annotations: Record<string, string> }).annotations[
        'kubectl.kubernetes.io/last-applied-configuration'
      ]!,
    ) as { spec: { template: { metadata?: { annotations?: Record<string, string> } } } }
    last.spec.template.metadata ??= {}
    const meta = last.spec.template.metadata
    meta.annotations = { ...meta.annotations, 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() }
    await this.client.apply([last as unknown as Record<string, unknown>])
  }

  async teardown(): Promise<void> {
    if (process.env.MINIMESH_E2E_KEEP) return
    await stopSupervisor(RUN_DIR)
  }
}
