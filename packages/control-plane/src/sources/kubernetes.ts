import {
  ADD,
  CoreV1Api,
  CustomObjectsApi,
  DELETE,
  DiscoveryV1Api,
  ERROR,
  type KubeConfig,
  type KubernetesObject,
  ListWatch,
  UPDATE,
  Watch,
} from '@kubernetes/client-node'
import { KubeConfigError, loadKubeConfig as loadConfig } from '@minimesh/api/kubeconfig'
import type { Logger } from 'pino'
import { ControlPlaneError } from '../errors.ts'
import { normalize } from './normalize.ts'
import { type ConfigSink, type ConfigSource, objectKey } from './source.ts'

const ORIGIN = 'kubernetes'

/**
 * The Kubernetes configuration meshd uses, by kubectl's precedence (@minimesh/api/kubeconfig):
 * KUBECONFIG, else ~/.kube/config, else in-cluster (the pod's service account) — in its pod meshd
 * has neither file, so it uses its service account. Throws MESH_ERR_MESHD_KUBECONFIG when there
 * is none (client-node would silently fall back to http://localhost:8080).
 */
export function loadKubeConfig(env: NodeJS.ProcessEnv = process.env): KubeConfig {
  try {
    return loadConfig({ env }).kc
  } catch (err) {
    if (!(err instanceof KubeConfigError)) throw err
    const message =
      err.code === 'MESH_ERR_KUBECONFIG_NONE'
        ? `no Kubernetes configuration: not running in a pod, ${err.searched}; set KUBECONFIG or pass --config-dir DIR`
        : err.code === 'MESH_ERR_KUBECONFIG_NO_CLUSTER'
          ? 'the Kubernetes configuration has no current cluster (check its current-context)'
          : `cannot load the Kubernetes configuration: ${err.message}`
    throw new ControlPlaneError('MESH_ERR_MESHD_KUBECONFIG', message, { cause: err })
  }
}

/** One kind meshd watches: its identity, API path and list call. */
interface WatchedKind {
  apiVersion: string
  kind: string
  path: string
  list: (kc: KubeConfig) => Promise<{ items: unknown[]; metadata?: { resourceVersion?: string } }>
  /** Server-side filter for list and watch (`type!=…`). */
  fieldSelector?: string
}

/**
 * Secrets meshd reads (Gateway credentialName): every type but the ones that never hold a
 * gateway certificate and are many (as Istio's credentials controller filters them).
 */
const SECRET_FIELD_SELECTOR = 'type!=kubernetes.io/service-account-token,type!=helm.sh/release.v1'

const crd = (group: string, version: string, kind: string, plural: string): WatchedKind => ({
  apiVersion: `${group}/${version}`,
  kind,
  path: `/apis/${group}/${version}/${plural}`,
  list: (kc) => kc.makeApiClient(CustomObjectsApi).listClusterCustomObject({ group, version, plural }),
})

/** Kinds meshd reads from the API server; `endpoints` picks EndpointSlices (default) or Endpoints. */
function watchedKinds(endpoints: 'EndpointSlice' | 'Endpoints'): WatchedKind[] {
  const core = (kc: KubeConfig) => kc.makeApiClient(CoreV1Api)
  return [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      path: '/api/v1/namespaces',
      list: (kc) => core(kc).listNamespace(),
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      path: '/api/v1/services',
      list: (kc) => core(kc).listServiceForAllNamespaces(),
    },
    { apiVersion: 'v1', kind: 'Pod', path: '/api/v1/pods', list: (kc) => core(kc).listPodForAllNamespaces() },
    endpoints === 'Endpoints'
      ? {
          apiVersion: 'v1',
          kind: 'Endpoints',
          path: '/api/v1/endpoints',
          list: (kc) => core(kc).listEndpointsForAllNamespaces(),
        }
      : {
          apiVersion: 'discovery.k8s.io/v1',
          kind: 'EndpointSlice',
          path: '/apis/discovery.k8s.io/v1/endpointslices',
          list: (kc) => kc.makeApiClient(DiscoveryV1Api).listEndpointSliceForAllNamespaces(),
        },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      path: '/api/v1/secrets',
      fieldSelector: SECRET_FIELD_SELECTOR,
      list: (kc) => core(kc).listSecretForAllNamespaces({ fieldSelector: SECRET_FIELD_SELECTOR }),
    },
    crd('networking.istio.io', 'v1', 'VirtualService', 'virtualservices'),
    crd('networking.istio.io', 'v1', 'DestinationRule', 'destinationrules'),
    crd('networking.istio.io', 'v1', 'Gateway', 'gateways'),
    crd('policy.minimesh.dev', 'v1alpha1', 'QuotaPolicy', 'quotapolicies'),
    crd('security.istio.io', 'v1', 'AuthorizationPolicy', 'authorizationpolicies'),
    crd('security.istio.io', 'v1', 'PeerAuthentication', 'peerauthentications'),
  ]
}

export interface KubernetesSourceOptions {
  logger?: Logger
  endpoints?: 'EndpointSlice' | 'Endpoints'
  /** Restart delay after an informer fails: doubles from `initialMs` up to `maxMs`. */
  backoff?: { initialMs: number; maxMs: number }
}

/**
 * Configuration from a Kubernetes API server: one informer (list, then watch) per kind, from
 * @kubernetes/client-node. A watch that ends is resumed from the last resourceVersion; a 410 Gone
 * makes it list again (objects gone meanwhile are deleted); any other failure restarts the
 * informer after a backoff. A mesh CRD that is not installed is retried the same way.
 */
export class KubernetesSource implements ConfigSource {
  readonly description: string
  /** The API server it reads (meshd writes resource status there too). */
  readonly kubeConfig: KubeConfig
  private readonly log?: Logger
  private readonly kinds: WatchedKind[]
  private readonly backoff: { initialMs: number; maxMs: number }
  private readonly informers: { stop(): Promise<void> }[] = []
  private readonly timers = new Set<NodeJS.Timeout>()
  private closed = false

  constructor(kc: KubeConfig, options: KubernetesSourceOptions = {}) {
    this.kubeConfig = kc
    this.description = `kubernetes:${kc.getCurrentCluster()?.server ?? '?'}`
    this.log = options.logger
    this.kinds = watchedKinds(options.endpoints ?? 'EndpointSlice')
    this.backoff = options.backoff ?? { initialMs: 500, maxMs: 30_000 }
  }

  async start(sink: ConfigSink): Promise<void> {
    await Promise.all(this.kinds.map((k) => this.startKind(k, sink)))
  }

  async close(): Promise<void> {
    this.closed = true
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    await Promise.all(this.informers.map((i) => i.stop()))
  }

  private async startKind(def: WatchedKind, sink: ConfigSink): Promise<void> {
    let delay = this.backoff.initialMs
    let failures = 0
    // client-node's makeInformer, with the kind's field selector on the watch as on the list.
    const informer = new ListWatch<KubernetesObject>(
      def.path,
      new Watch(this.kubeConfig),
      async () => {
        const list = await def.list(this.kubeConfig)
        delay = this.backoff.initialMs
        if (failures > 0) this.log?.info({ kind: def.kind }, 'kubernetes: listing works again')
        failures = 0
        return list as never
      },
      false,
      undefined,
      def.fieldSelector,
    )
    this.informers.push(informer)
    const upsert = (obj: KubernetesObject) => {
      const o = normalize(def.apiVersion, def.kind, obj)
      if (o) sink.upsert(o, ORIGIN)
    }
    informer.on(ADD, upsert)
    informer.on(UPDATE, upsert)
    informer.on(DELETE, (obj) => {
      const o = normalize(def.apiVersion, def.kind, obj)
      if (o) sink.remove(objectKey(o), ORIGIN)
    })
    informer.on(ERROR, (err) => {
      if (this.closed) return
      failures++
      const e = err as { statusCode?: number; code?: number; message?: string }
      const status = e.statusCode ?? e.code
      const log = failures === 1 ? this.log?.warn.bind(this.log) : this.log?.debug.bind(this.log)
      log?.(
        { kind: def.kind, status, err: e.message, retryInMs: delay },
        status === 404
          ? 'kubernetes: kind not served (CRD not installed?); retrying'
          : 'kubernetes: informer failed; restarting',
      )
      const t = setTimeout(() => {
        this.timers.delete(t)
        if (!this.closed) informer.start().catch(() => {})
      }, delay)
      this.timers.add(t)
      delay = Math.min(delay * 2, this.backoff.maxMs)
    })
    // Resolves once the first list is in (or failed; the failure is retried in the background).
    await informer.start().catch(() => {})
  }
}
