// LocalClusterClient: the same calls as LocalCluster (apply, delete, get, logs, exec, waitReady,
// gatewayUrl, down), made to a running supervisor over its unix socket. meshctl and the e2e suite use it.
import { spawn } from 'node:child_process'
import { request } from 'node:http'
import type { KubeObject, LabelSelector } from '@minimesh/api/kube'
import type { ApplyResult, ReadinessSummary, WaitOptions } from '../cluster.ts'
import { LocalClusterError, type LocalClusterErrorCode } from '../errors.ts'
import type { ObjectRef } from '../kube/kinds.ts'
import { defaultRunDir, runPaths } from '../paths.ts'
import { notReadyError } from '../readiness.ts'
import { type ExecResult, type ExecSpec, execArgv, execInPod } from '../workload/exec.ts'

export interface SupervisorInfo {
  pid: number
  runDir: string
  stateDir: string
  hostIp: string
  options: Record<string, unknown>
}

function selectorText(s: string | LabelSelector | undefined): string | undefined {
  if (s === undefined || typeof s === 'string') return s
  const parts = Object.entries(s.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`)
  for (const e of s.matchExpressions ?? []) {
    if (e.operator === 'Exists') parts.push(e.key)
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`)
    else parts.push(`${e.key} ${e.operator === 'In' ? 'in' : 'notin'} (${(e.values ?? []).join(',')})`)
  }
  return parts.join(',')
}

export class LocalClusterClient {
  readonly runDir: string
  readonly socket: string

  constructor(runDir = defaultRunDir()) {
    this.runDir = runDir
    this.socket = runPaths(runDir).socket
  }

  #request(
    method: string,
    path: string,
    payload?: unknown,
    onData?: (chunk: string) => void,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const body = payload === undefined ? undefined : JSON.stringify(payload)
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: this.socket,
          method,
          path,
          headers: body ? { 'content-type': 'application/json' } : {},
          signal,
        },
        (res) => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (d: string) => {
            if (onData && (res.statusCode ?? 500) < 300) onData(d)
            else text += d
          })
          res.on('end', () => {
            if ((res.statusCode ?? 500) >= 300) {
              let e: { code?: string; message?: string } = {}
              try {
                e = (JSON.parse(text) as { error: typeof e }).error
              } catch {}
              reject(
                new LocalClusterError(
                  (e.code ?? 'MESH_ERR_LOCAL_SUPERVISOR') as LocalClusterErrorCode,
                  e.message ?? text,
                ),
              )
            } else resolve(onData ? undefined : text ? JSON.parse(text) : undefined)
          })
          res.on('error', reject)
        },
      )
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.name === 'AbortError') return resolve(undefined)
        if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')
          reject(
            new LocalClusterError(
              'MESH_ERR_LOCAL_NOT_RUNNING',
              `no local cluster is running (run dir ${this.runDir}); start one with \`meshctl local up\``,
              { cause: err },
            ),
          )
        else reject(err)
      })
      req.end(body)
    })
  }

  info(): Promise<SupervisorInfo> {
    return this.#request('GET', '/v1/info') as Promise<SupervisorInfo>
  }

  async apply(objects: readonly Record<string, unknown>[]): Promise<ApplyResult[]> {
    return ((await this.#request('POST', '/v1/apply', { objects })) as { results: ApplyResult[] }).results
  }

  async delete(refs: readonly ObjectRef[], opts: { ignoreNotFound?: boolean } = {}): Promise<ObjectRef[]> {
    return ((await this.#request('POST', '/v1/delete', { refs, ...opts })) as { deleted: ObjectRef[] })
      .deleted
  }

  async get(
    kind: string,
    namespace?: string,
    name?: string,
    selector?: string | LabelSelector,
  ): Promise<KubeObject[]> {
    const sel = selectorText(selector)
    const q = new URLSearchParams({
      kind,
      ...(namespace ? { namespace } : {}),
      ...(name ? { name } : {}),
      ...(sel ? { selector: sel } : {}),
    })
    return ((await this.#request('GET', `/v1/get?${q}`)) as { items: KubeObject[] }).items
  }

  async logs(namespace: string, pod: string, container?: string): Promise<string> {
    let out = ''
    await this.followLogs(namespace, pod, container, (d) => (out += d), undefined, false)
    return out
  }

  /** Streams a container's log (`follow`: until `signal` aborts or the cluster goes down). */
  async followLogs(
    namespace: string,
    pod: string,
    container: string | undefined,
    onData: (chunk: string) => void,
    signal?: AbortSignal,
    follow = true,
  ): Promise<void> {
    const q = new URLSearchParams({
      namespace,
      pod,
      ...(container ? { container } : {}),
      ...(follow ? { follow: '1' } : {}),
    })
    await this.#request('GET', `/v1/logs?${q}`, undefined, onData, signal)
  }

  execSpec(namespace: string, pod: string, container?: string): Promise<ExecSpec> {
    const q = new URLSearchParams({ namespace, pod, ...(container ? { container } : {}) })
    return this.#request('GET', `/v1/exec-spec?${q}`) as Promise<ExecSpec>
  }

  /** Runs argv in the pod (this process must be root, like the supervisor) and collects its output. */
  async exec(
    namespace: string,
    pod: string,
    argv: string[],
    opts: { container?: string; input?: string; timeoutMs?: number } = {},
  ): Promise<ExecResult> {
    return execInPod(await this.execSpec(namespace, pod, opts.container), argv, opts)
  }

  /** Runs argv in the pod with this process's stdio (interactive `meshctl local exec`); resolves with the exit code. */
  async execInteractive(namespace: string, pod: string, argv: string[], container?: string): Promise<number> {
    const spec = await this.execSpec(namespace, pod, container)
    const [cmd, ...args] = execArgv(spec, argv)
    return new Promise((resolve, reject) => {
      const child = spawn(cmd!, args, { env: spec.env, stdio: 'inherit' })
      child.on('error', reject)
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)))
    })
  }

  readiness(opts: Pick<WaitOptions, 'namespace' | 'selector'> = {}): Promise<ReadinessSummary> {
    const sel = selectorText(opts.selector)
    const q = new URLSearchParams({
      ...(opts.namespace ? { namespace: opts.namespace } : {}),
      ...(sel ? { selector: sel } : {}),
    })
    return this.#request('GET', `/v1/readiness?${q}`) as Promise<ReadinessSummary>
  }

  /** Polls until every matching Deployment and Pod is ready; MESH_ERR_LOCAL_TIMEOUT names what is not. */
  async waitReady(opts: WaitOptions = {}): Promise<ReadinessSummary> {
    const until = Date.now() + (opts.timeoutMs ?? 120_000)
    let last = ''
    for (;;) {
      const s = await this.readiness(opts)
      const text = JSON.stringify(s.items)
      if (text !== last) {
        last = text
        opts.onProgress?.(s)
      }
      if (s.ready) return s
      if (Date.now() > until) {
        throw notReadyError(s, opts.timeoutMs ?? 120_000)
      }
      await new Promise((r) => setTimeout(r, 500))
    }
  }

  async gatewayUrl(name?: string, namespace?: string): Promise<string> {
    const q = new URLSearchParams({ ...(name ? { name } : {}), ...(namespace ? { namespace } : {}) })
    return ((await this.#request('GET', `/v1/gateway-url?${q}`)) as { url: string }).url
  }

  /** Takes the cluster down; the supervisor exits afterwards. */
  async down(): Promise<string[]> {
    return ((await this.#request('POST', '/v1/down')) as { removed: string[] }).removed
  }
}
