// The thin edge between meshctl and a Kubernetes API server (@kubernetes/client-node): load a
// kubeconfig, server-side apply, read, list, delete, exec, logs. Every failure becomes an
// InstallError that names the context, the request and what to do next (describeKubeError).
import { Writable } from 'node:stream'
import {
  ApiException,
  CoreV1Api,
  Exec,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  type V1Status,
} from '@kubernetes/client-node'
import type { KubeObject } from '@minimesh/api/kube'
import { KubeConfigError, loadKubeConfig as loadConfig } from '@minimesh/api/kubeconfig'
import { forClientModel } from './client-model.ts'
import { InstallError } from './errors.ts'

/** The field manager of every server-side apply meshctl sends. */
export const FIELD_MANAGER = 'meshctl'

export interface ObjectRef {
  apiVersion: string
  kind: string
  name: string
  namespace?: string
}

export function refOf(obj: KubeObject): ObjectRef {
  const { apiVersion, kind } = obj
  const { name, namespace } = obj.metadata
  return namespace ? { apiVersion, kind, name, namespace } : { apiVersion, kind, name }
}

/** `Deployment minimesh-system/meshd`, `CustomResourceDefinition virtualservices.networking.istio.io`. */
export function describeRef(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`
}

export interface KubeTarget {
  /** A kubeconfig file (default: $KUBECONFIG, else ~/.kube/config, else the pod's service account). */
  kubeconfig?: string
  /** A context of that kubeconfig (default: its current-context). */
  context?: string
  env?: NodeJS.ProcessEnv
  home?: string
}

export interface ClusterInfo {
  context: string
  server: string
}

/**
 * Loads the kubeconfig (@minimesh/api/kubeconfig: --kubeconfig, KUBECONFIG, ~/.kube/config, else
 * the pod's service account) and selects the context; MESH_ERR_INSTALL_NO_CLUSTER when there is none.
 */
export function loadKubeConfig(target: KubeTarget = {}): { kc: KubeConfig; cluster: ClusterInfo } {
  let kc: KubeConfig
  try {
    ;({ kc } = loadConfig(target))
  } catch (err) {
    if (!(err instanceof KubeConfigError)) throw err
    throw new InstallError('MESH_ERR_INSTALL_NO_CLUSTER', advice(err), { cause: err })
  }
  const context = kc.getCurrentContext()
  const server = kc.getCurrentCluster()?.server
  if (!context || !server) throw new InstallError('MESH_ERR_INSTALL_NO_CLUSTER', advice())
  return { kc, cluster: { context, server } }
}

function advice(err?: KubeConfigError): string {
  switch (err?.code) {
    case 'MESH_ERR_KUBECONFIG_NONE':
      return (
        `no kubeconfig: ${err.searched}. Create a cluster ` +
        '(`make demo` or `bash kind/up.sh` makes the kind cluster "minimesh") or point --kubeconfig / KUBECONFIG at one.'
      )
    case 'MESH_ERR_KUBECONFIG_UNREADABLE':
      return err.message
    case 'MESH_ERR_KUBECONFIG_CONTEXT':
      return `${err.message}. For the kind cluster run \`kind export kubeconfig --name minimesh\` (context kind-minimesh).`
    default:
      return 'the kubeconfig has no current context with a cluster: pass --context NAME, or run `kubectl config use-context NAME`.'
  }
}

/**
 * client-node's object type and the model differ in the timestamps: client-node gives an object
 * of a built-in kind as its generated class, with creationTimestamp/deletionTimestamp as Dates
 * where the model (the JSON) has strings. meshctl only tests deletionTimestamp for presence and
 * its table output checks creationTimestamp's type, so objects cross this edge as they are.
 */
const toClient = (obj: KubeObject) => obj as unknown as KubernetesObject
const fromClient = (obj: KubernetesObject) => obj as unknown as KubeObject

/** What a request was doing, for error messages. */
interface RequestContext {
  verb: string
  ref?: Partial<ObjectRef>
  cluster: ClusterInfo
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ECONNRESET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
])

function networkCode(err: unknown): string | undefined {
  for (
    let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0;
    e && i < 8;
    e = e.cause as never, i++
  ) {
    if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return e.code
  }
  return undefined
}

interface StatusBody {
  message?: string
  reason?: string
  details?: { name?: string; group?: string; kind?: string }
}

function statusBody(body: unknown): StatusBody {
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as StatusBody
    } catch {
      return { message: body.trim().slice(0, 500) }
    }
  }
  return (body ?? {}) as StatusBody
}

/** From an RBAC denial message: `User "x" cannot patch resource "deployments" in API group "apps"`. */
export function parseForbidden(message: string): { user?: string; verb?: string; resource?: string } {
  const m = /User "([^"]*)" cannot (\S+) resource "([^"]+)"(?: in API group "([^"]*)")?/.exec(message)
  if (!m) return {}
  const resource = m[4] ? `${m[3]}.${m[4]}` : m[3]
  return { user: m[1], verb: m[2], resource }
}

function where(ref: Partial<ObjectRef> | undefined): string {
  if (!ref?.kind) return ''
  return ` ${ref.kind}${ref.name ? ` "${ref.name}"` : 's'}${ref.namespace ? ` in namespace ${ref.namespace}` : ''}`
}

/** Turns whatever @kubernetes/client-node threw into an InstallError that says what to do. */
function describeKubeError(err: unknown, ctx: RequestContext): InstallError {
  if (err instanceof InstallError) return err
  const { context, server } = ctx.cluster
  const net = networkCode(err)
  if (net) {
    const tls = net.includes('CERT') || net.includes('SIGNED')
    return new InstallError(
      'MESH_ERR_INSTALL_NO_CLUSTER',
      `cannot reach the Kubernetes API server ${server} of context "${context}" (${net}). ` +
        (tls
          ? 'Its certificate does not verify: refresh the kubeconfig (for kind: `kind export kubeconfig --name minimesh`).'
          : 'Is the cluster running? For kind: `kind get clusters` and `docker ps`; create it with `bash kind/up.sh`. ' +
            'Or pick another cluster with --context.'),
      { cause: err },
    )
  }
  if (err instanceof ApiException) {
    const body = statusBody(err.body)
    const said = body.message ?? `HTTP ${err.code}`
    const target = where(ctx.ref)
    if (err.code === 401) {
      return new InstallError(
        'MESH_ERR_INSTALL_FORBIDDEN',
        `the API server of context "${context}" refused our credentials (401 Unauthorized): they are missing or expired; ` +
          'refresh the kubeconfig (for kind: `kind export kubeconfig --name minimesh`).',
        { cause: err },
      )
    }
    if (err.code === 403 && !/admission webhook/.test(said)) {
      const denied = parseForbidden(said)
      const name = ctx.ref?.name ? ` "${ctx.ref.name}"` : ''
      const ns = ctx.ref?.namespace ? ` in namespace ${ctx.ref.namespace}` : ''
      const what =
        denied.verb && denied.resource
          ? `${denied.verb} ${denied.resource}${name}${ns}`
          : `${ctx.verb}${target}`
      return new InstallError(
        'MESH_ERR_INSTALL_FORBIDDEN',
        `permission denied (403) in context "${context}": ${denied.user ? `user "${denied.user}" ` : ''}cannot ${what}. ` +
          `The server said: ${said}. meshctl install creates ` +
          'CustomResourceDefinitions, ClusterRoles, ClusterRoleBindings and webhook configurations, which needs ' +
          'cluster-admin: use an admin context (--context) or ask a cluster administrator.',
        { cause: err },
      )
    }
    if (err.code === 400 || err.code === 403 || err.code === 409 || err.code === 422) {
      return new InstallError('MESH_ERR_INSTALL_REJECTED', `${ctx.verb}${target} was refused: ${said}`, {
        cause: err,
      })
    }
    return new InstallError(
      'MESH_ERR_INSTALL_API',
      `${ctx.verb}${target} failed (HTTP ${err.code}): ${said}`,
      {
        cause: err,
      },
    )
  }
  const e = err as Error
  return new InstallError(
    'MESH_ERR_INSTALL_API',
    `${ctx.verb}${where(ctx.ref)} failed: ${e?.message ?? String(err)}`,
    {
      cause: err,
    },
  )
}

function isNotFound(err: unknown): boolean {
  return err instanceof ApiException && err.code === 404
}

export interface ExecResult {
  code: number
  stdout: string
  stderr: string
}

/**
 * The exit code in the Status the API server sends at the end of an exec: 0 for Success, the
 * `ExitCode` cause for NonZeroExitCode, else -1 (the command did not run: no such container, …).
 */
export function exitCodeFromStatus(
  status: Pick<V1Status, 'status' | 'reason' | 'details'> | undefined,
): number {
  if (!status) return -1
  if (status.status === 'Success') return 0
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode')
  const code = Number(cause?.message)
  return status.reason === 'NonZeroExitCode' && Number.isInteger(code) ? code : -1
}

function collector(chunks: Buffer[]): Writable {
  return new Writable({
    write(chunk, _enc, done) {
      chunks.push(Buffer.from(chunk))
      done()
    },
  })
}

/** The calls meshctl and the kind e2e driver make; one per request, errors already described. */
export class Kube {
  readonly kc: KubeConfig
  readonly cluster: ClusterInfo
  readonly #objects: KubernetesObjectApi
  readonly #core: CoreV1Api

  constructor(kc: KubeConfig, cluster: ClusterInfo) {
    this.kc = kc
    this.cluster = cluster
    this.#objects = KubernetesObjectApi.makeApiClient(kc)
    this.#core = kc.makeApiClient(CoreV1Api)
  }

  static connect(target: KubeTarget = {}): Kube {
    const { kc, cluster } = loadKubeConfig(target)
    return new Kube(kc, cluster)
  }

  async #call<T>(verb: string, ref: Partial<ObjectRef> | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      throw describeKubeError(err, { verb, ref, cluster: this.cluster })
    }
  }

  /**
   * Server-side apply (field manager `meshctl` unless given); `force` takes over fields another
   * manager owns. Fields this manager applied before and `obj` leaves out are removed (SSA), so
   * partial applies (a label, an annotation) must use a field manager of their own.
   */
  apply(obj: KubeObject, force = true, fieldManager = FIELD_MANAGER): Promise<KubeObject> {
    return this.#call('apply', refOf(obj), async () =>
      fromClient(
        await this.#objects.patch(
          toClient(forClientModel(obj)),
          undefined,
          undefined,
          fieldManager,
          force,
          PatchStrategy.ServerSideApply,
        ),
      ),
    )
  }

  /** The object, or undefined when it does not exist. */
  async read(ref: ObjectRef): Promise<KubeObject | undefined> {
    try {
      return fromClient(
        await this.#objects.read({
          apiVersion: ref.apiVersion,
          kind: ref.kind,
          metadata: ref.namespace ? { name: ref.name, namespace: ref.namespace } : { name: ref.name },
        }),
      )
    } catch (err) {
      if (isNotFound(err)) return undefined
      throw describeKubeError(err, { verb: 'get', ref, cluster: this.cluster })
    }
  }

  /** Deletes the object (background propagation); false when it was already gone. */
  async delete(ref: ObjectRef): Promise<boolean> {
    try {
      await this.#objects.delete(
        {
          apiVersion: ref.apiVersion,
          kind: ref.kind,
          metadata: { name: ref.name, namespace: ref.namespace },
        },
        undefined,
        undefined,
        undefined,
        undefined,
        'Background',
      )
      return true
    } catch (err) {
      if (isNotFound(err)) return false
      throw describeKubeError(err, { verb: 'delete', ref, cluster: this.cluster })
    }
  }

  /** Objects of a kind, optionally in one namespace and matching a label selector. */
  async list(
    apiVersion: string,
    kind: string,
    namespace?: string,
    labelSelector?: string,
  ): Promise<KubeObject[]> {
    const res = await this.#call('list', { apiVersion, kind, namespace }, () =>
      this.#objects.list(
        apiVersion,
        kind,
        namespace,
        undefined,
        undefined,
        undefined,
        undefined,
        labelSelector,
      ),
    )
    return res.items.map((item) => ({ ...fromClient(item), apiVersion, kind }))
  }

  /** Runs argv in a container and collects its output and exit code. */
  async exec(namespace: string, pod: string, container: string, argv: string[]): Promise<ExecResult> {
    const out: Buffer[] = []
    const err: Buffer[] = []
    const ref = { apiVersion: 'v1', kind: 'Pod', name: pod, namespace }
    let status: V1Status | undefined
    const ws = await this.#call('exec in', ref, () =>
      new Exec(this.kc).exec(
        namespace,
        pod,
        container,
        argv,
        collector(out),
        collector(err),
        null,
        false,
        (s) => {
          status = s
        },
      ),
    )
    await new Promise<void>((resolve, reject) => {
      ws.on('close', () => resolve())
      ws.on('error', (e: Error) =>
        reject(describeKubeError(e, { verb: 'exec in', ref, cluster: this.cluster })),
      )
    })
    const stderr = Buffer.concat(err).toString('utf8')
    const code = exitCodeFromStatus(status)
    return {
      code,
      stdout: Buffer.concat(out).toString('utf8'),
      stderr: code === -1 && status?.message ? `${stderr}${status.message}` : stderr,
    }
  }

  /** A container's logs. */
  logs(namespace: string, pod: string, container?: string): Promise<string> {
    return this.#call('read logs of', { apiVersion: 'v1', kind: 'Pod', name: pod, namespace }, () =>
      this.#core.readNamespacedPodLog({ name: pod, namespace, ...(container ? { container } : {}) }),
    )
  }

  /** GET a path of a Service through the API server's proxy (`/api/v1/namespaces/NS/services/NAME:PORT/proxy/PATH`). */
  serviceProxyGet(namespace: string, service: string, port: number, path: string): Promise<string> {
    return this.#call('proxy to', { apiVersion: 'v1', kind: 'Service', name: service, namespace }, () =>
      this.#core.connectGetNamespacedServiceProxyWithPath({
        name: `${service}:${port}`,
        namespace,
        path: path.replace(/^\//, ''),
      }),
    )
  }
}
