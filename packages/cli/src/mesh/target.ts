// Where a running mesh is: the local cluster (its supervisor and meshd on the bridge address), a
// Kubernetes cluster (meshd through the API server's service proxy, pods through port-forward), or
// a meshd address given outright (--meshd; proxies by --admin). Every command that reads a live
// mesh (wait --for=sync, proxy-status, proxy-config POD, describe, analyze without -f) goes through
// one MeshTarget, so each works the same on both cluster kinds.
import { spawn } from 'node:child_process'
import type { Socket } from 'node:net'
import { PortForward } from '@kubernetes/client-node'
import type { KubeObject } from '@minimesh/api/kube'
import {
  defaultRunDir,
  execArgv,
  type KindInfo,
  LocalClusterClient,
  supervisorStatus,
} from '@minimesh/local-cluster'
import { UsageError } from '../commands/types.ts'
import { CliError } from '../errors.ts'
import { Kube } from '../install/kube.ts'
import { type Forwarded, forwardPort } from './port-forward.ts'

const MESH_NAMESPACE = 'minimesh-system'
const MESHD_MONITORING_PORT = 15014

/** meshd, a proxy or the cluster could not be reached or did not do what was asked. */
export class MeshTargetError extends CliError {}

export interface MeshTarget {
  /** `local cluster (run dir …)`, `Kubernetes context kind-minimesh`, `meshd at http://…` */
  readonly description: string
  /** GET a path of meshd's monitoring server (15014), parsed as JSON. */
  meshd<T = unknown>(path: string): Promise<T>
  /** A local address that reaches port `port` on 127.0.0.1 inside the pod (as `kubectl port-forward`). */
  forward(namespace: string, pod: string, port: number): Promise<Forwarded>
  /** Objects of a kind (`Pod`, `Service`, `VirtualService`, …); every namespace when none is given. */
  list(kind: MeshKind, namespace?: string): Promise<KubeObject[]>
  /**
   * Objects of any kind meshctl names (kindByName: `vs`, `pods`, `deploy`…), as the cluster holds
   * them (status included): one by name, or all in a namespace (every namespace when none is
   * given) matching a label selector.
   */
  get(kind: KindInfo, namespace?: string, name?: string, selector?: string): Promise<KubeObject[]>
}

/** `networking.istio.io/v1`, `apps/v1`, `v1`: the version a kind is read in. */
function apiVersionOf(kind: KindInfo): string {
  return kind.group ? `${kind.group}/${kind.versions[0]}` : kind.versions[0]!
}

/** The kinds a live command reads, with their API versions. */
const MESH_KINDS = {
  Pod: 'v1',
  Service: 'v1',
  VirtualService: 'networking.istio.io/v1',
  DestinationRule: 'networking.istio.io/v1',
  Gateway: 'networking.istio.io/v1',
  QuotaPolicy: 'policy.minimesh.dev/v1alpha1',
  PeerAuthentication: 'security.istio.io/v1',
  AuthorizationPolicy: 'security.istio.io/v1',
} as const
export type MeshKind = keyof typeof MESH_KINDS

async function fetchJson<T>(url: string, what: string): Promise<T> {
  let res: Response
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(10_000) })
  } catch (cause) {
    throw new MeshTargetError(
      'MESH_ERR_CLI_MESHD',
      `cannot reach ${what} at ${url} (${(cause as Error).cause ? String((cause as Error & { cause: Error }).cause.message) : (cause as Error).message}); is the mesh installed and meshd running?`,
      { cause },
    )
  }
  const text = await res.text()
  if (!res.ok) throw new MeshTargetError('MESH_ERR_CLI_MESHD', `${url}: HTTP ${res.status}: ${text.trim()}`)
  return JSON.parse(text) as T
}

/** meshd at a known address; pods' admins only through `--admin` (the caller's own forwarding). */
export class DirectTarget implements MeshTarget {
  readonly description: string
  readonly #base: string
  constructor(meshdUrl: string) {
    this.#base = (/^https?:\/\//.test(meshdUrl) ? meshdUrl : `http://${meshdUrl}`).replace(/\/$/, '')
    this.description = `meshd at ${this.#base}`
  }
  meshd<T>(path: string): Promise<T> {
    return fetchJson<T>(`${this.#base}${path}`, 'meshd')
  }
  async forward(_namespace: string, _pod: string, _port: number): Promise<Forwarded> {
    throw new MeshTargetError(
      'MESH_ERR_CLI_TARGET',
      'with --meshd there is no cluster to reach a pod through: give --admin HOST:PORT',
    )
  }
  async list(_kind: MeshKind, _namespace?: string): Promise<KubeObject[]> {
    throw new MeshTargetError(
      'MESH_ERR_CLI_TARGET',
      'with --meshd there is no cluster to read objects from: use --local or a kubeconfig',
    )
  }
  async get(): Promise<KubeObject[]> {
    throw new MeshTargetError(
      'MESH_ERR_CLI_TARGET',
      'with --meshd there is no cluster to read objects from: use --local or a kubeconfig',
    )
  }
}

/** The local cluster: meshd in the host netns on the bridge address, pods as network namespaces. */
export class LocalTarget implements MeshTarget {
  readonly description: string
  readonly client: LocalClusterClient
  #hostIp: Promise<string> | undefined
  constructor(runDir?: string) {
    this.client = new LocalClusterClient(runDir)
    this.description = `local cluster (run dir ${this.client.runDir})`
  }
  async meshd<T>(path: string): Promise<T> {
    this.#hostIp ??= this.client.info().then((i) => i.hostIp)
    return fetchJson<T>(`http://${await this.#hostIp}:${MESHD_MONITORING_PORT}${path}`, 'meshd')
  }
  async forward(
    namespace: string,
    pod: string,
    port: number,
    listen?: { host?: string; port?: number },
  ): Promise<Forwarded> {
    // The pod's admin listens on 127.0.0.1 in the pod's netns: every forwarded connection is a
    // small Node process in that netns (as the pod's proxy user, which the capture rules exempt)
    // piping stdin/stdout to the port, as kubelet's port-forward does with nsenter and socat.
    const spec = await this.client
      .execSpec(namespace, pod, 'mesh-proxy')
      .catch(() => this.client.execSpec(namespace, pod))
    const script = `const s=require('node:net').connect(${port},'127.0.0.1');process.stdin.pipe(s).pipe(process.stdout);s.on('error',(e)=>{process.stderr.write(e.message);process.exit(1)});s.on('close',()=>process.exit(0))`
    const [cmd, ...args] = execArgv(spec, [process.execPath, '-e', script])
    return forwardPort(
      (socket: Socket) => {
        const child = spawn(cmd!, args, { env: spec.env, stdio: ['pipe', 'pipe', 'ignore'] })
        child.stdout.pipe(socket)
        socket.pipe(child.stdin)
        child.stdin.on('error', () => socket.destroy())
        child.on('error', () => socket.destroy())
        child.on('exit', () => socket.end())
        socket.on('error', () => child.kill())
        socket.on('close', () => child.kill())
      },
      `${namespace}/${pod}:${port}`,
      listen,
    )
  }
  async list(kind: MeshKind, namespace?: string): Promise<KubeObject[]> {
    return (await this.client.get(kind, namespace)) as unknown as KubeObject[]
  }
  async get(kind: KindInfo, namespace?: string, name?: string, selector?: string): Promise<KubeObject[]> {
    return (await this.client.get(kind.kind, namespace, name, selector)) as unknown as KubeObject[]
  }
}

/** A Kubernetes cluster from a kubeconfig: meshd through the API server's service proxy. */
export class KubeTarget implements MeshTarget {
  readonly description: string
  readonly kube: Kube
  constructor(kube: Kube) {
    this.kube = kube
    this.description = `Kubernetes context ${kube.cluster.context} (${kube.cluster.server})`
  }
  async meshd<T>(path: string): Promise<T> {
    const [p, query] = path.split('?')
    const text = await this.kube.serviceProxyGet(
      MESH_NAMESPACE,
      'meshd',
      MESHD_MONITORING_PORT,
      `${p}${query ? `?${query}` : ''}`,
    )
    return (typeof text === 'string' ? JSON.parse(text) : text) as T
  }
  async forward(namespace: string, pod: string, port: number): Promise<Forwarded> {
    const pf = new PortForward(this.kube.kc)
    return forwardPort((socket: Socket) => {
      pf.portForward(namespace, pod, [port], socket, null, socket).catch(() => socket.destroy())
    }, `${namespace}/${pod}:${port}`)
  }
  async list(kind: MeshKind, namespace?: string): Promise<KubeObject[]> {
    return (await this.kube.list(MESH_KINDS[kind], kind, namespace)) as KubeObject[]
  }
  async get(kind: KindInfo, namespace?: string, name?: string, selector?: string): Promise<KubeObject[]> {
    const apiVersion = apiVersionOf(kind)
    const ns = kind.namespaced ? namespace : undefined
    if (name) {
      if (kind.namespaced && !ns)
        throw new UsageError(`${kind.plural} are namespaced: give -n NAMESPACE with a name`)
      const obj = await this.kube.read({
        apiVersion,
        kind: kind.kind,
        name,
        ...(ns ? { namespace: ns } : {}),
      })
      return obj ? [{ ...obj, apiVersion, kind: kind.kind } as KubeObject] : []
    }
    return (await this.kube.list(apiVersion, kind.kind, ns, selector)) as KubeObject[]
  }
}

export interface TargetFlags {
  meshd?: string
  local?: boolean
  'run-dir'?: string
  kubeconfig?: string
  context?: string
}

/** The options every live command takes (an option table's entries). */
export const TARGET_OPTIONS = {
  meshd: { type: 'string', arg: 'HOST:PORT', help: "meshd's monitoring address, directly" },
  local: { type: 'boolean', help: 'the local cluster (the default when one runs)' },
  'run-dir': {
    type: 'string',
    arg: 'DIR',
    defaultText: '$MINIMESH_LOCAL_RUN_DIR or /var/run/minimesh-local',
    help: "the local cluster's run directory",
  },
  kubeconfig: {
    type: 'string',
    arg: 'FILE',
    defaultText: '$KUBECONFIG or ~/.kube/config',
    help: 'a Kubernetes cluster by its kubeconfig',
  },
  context: { type: 'string', arg: 'NAME', help: 'the kubeconfig context' },
} as const

export const TARGET_USAGE = `Where the mesh is: --local [--run-dir DIR] (the local cluster; the default when one runs),
--kubeconfig FILE / --context NAME (Kubernetes; default $KUBECONFIG or ~/.kube/config),
--meshd HOST:PORT (meshd's monitoring address, directly).`

/**
 * --meshd → that address; --local, or a running local cluster when no kubeconfig or context is
 * given → the local cluster; otherwise Kubernetes.
 */
export function resolveTarget(flags: TargetFlags): MeshTarget {
  if (flags.meshd) return new DirectTarget(flags.meshd)
  const k8sAsked = flags.kubeconfig !== undefined || flags.context !== undefined
  if (flags.local && k8sAsked) throw new UsageError('--local and --kubeconfig/--context exclude each other')
  if (flags.local) return new LocalTarget(flags['run-dir'])
  if (!k8sAsked && supervisorStatus(flags['run-dir'] ?? defaultRunDir()).running)
    return new LocalTarget(flags['run-dir'])
  return new KubeTarget(Kube.connect({ kubeconfig: flags.kubeconfig, context: flags.context }))
}
