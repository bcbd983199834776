// The one kubeconfig loader of minimesh (meshctl, meshd, the dashboard), with kubectl's
// precedence (client-go's clientcmd loading rules):
//   1. the file given explicitly (`--kubeconfig`): it must be readable;
//   2. else KUBECONFIG: a list of files (`:`-separated), merged, the first file to set a cluster,
//      user or context name (or the current context) winning; files that do not exist are skipped;
//   3. else ~/.kube/config;
//   4. else, in a pod (KUBERNETES_SERVICE_HOST set and a service account token mounted), the pod's
//      service account.
// Then `context`, when given, replaces the current context. Each caller turns a KubeConfigError
// into its own error, with its own advice (meshctl: make a kind cluster; meshd: --config-dir).
// Imported as `@minimesh/api/kubeconfig`, so only the programs that talk to an API server load
// @kubernetes/client-node.
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { delimiter, join } from 'node:path'
import { type Cluster, type Context, KubeConfig, type User } from '@kubernetes/client-node'
import { KubeConfigError } from '../errors.ts'

export { KubeConfigError, type KubeConfigErrorCode } from '../errors.ts'

export interface KubeConfigOptions {
  /** A kubeconfig file given explicitly (`--kubeconfig`); it wins over everything else. */
  kubeconfig?: string
  /** A context to use instead of the kubeconfig's current-context. */
  context?: string
  /** Where KUBECONFIG, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are read (default process.env). */
  env?: NodeJS.ProcessEnv
  /** The home directory whose .kube/config is the default (default os.homedir()). */
  home?: string
  /** Prefixed to the service account's path (/var/run/secrets/kubernetes.io/serviceaccount); for tests. */
  root?: string
}

/** Where a configuration comes from. */
export type KubeConfigSource =
  | { from: 'flag'; files: [string] }
  | { from: 'KUBECONFIG'; files: string[] }
  | { from: 'home'; files: [string] }
  | { from: 'in-cluster' }

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token'

/** The default kubeconfig file: `<home>/.kube/config`. */
export function defaultKubeConfigFile(home: string = homedir()): string {
  return join(home, '.kube', 'config')
}

/**
 * Where the configuration comes from, by kubectl's precedence (see the top of this file), or
 * undefined when there is none. Reads only whether files exist.
 */
export function kubeConfigSource(options: KubeConfigOptions = {}): KubeConfigSource | undefined {
  const env = options.env ?? process.env
  if (options.kubeconfig) return { from: 'flag', files: [options.kubeconfig] }
  if (env.KUBECONFIG) {
    const files = env.KUBECONFIG.split(delimiter).filter((f) => f && existsSync(f))
    if (files.length > 0) return { from: 'KUBECONFIG', files }
  } else {
    const file = defaultKubeConfigFile(options.home)
    if (existsSync(file)) return { from: 'home', files: [file] }
  }
  if (env.KUBERNETES_SERVICE_HOST && existsSync(`${options.root ?? ''}${SERVICE_ACCOUNT_TOKEN}`))
    return { from: 'in-cluster' }
  return undefined
}

function readFile(file: string): KubeConfig {
  const kc = new KubeConfig()
  try {
    kc.loadFromFile(file)
  } catch (err) {
    throw new KubeConfigError(
      'MESH_ERR_KUBECONFIG_UNREADABLE',
      `cannot read the kubeconfig ${file}: ${(err as Error).message}`,
      { cause: err, file },
    )
  }
  return kc
}

/** kubectl's merge of KUBECONFIG's files: the first to set a name, or the current context, wins. */
function merge(configs: KubeConfig[]): KubeConfig {
  const clusters = new Map<string, Cluster>()
  const users = new Map<string, User>()
  const contexts = new Map<string, Context>()
  let currentContext = ''
  for (const kc of configs) {
    for (const c of kc.getClusters()) if (!clusters.has(c.name)) clusters.set(c.name, c)
    for (const u of kc.getUsers()) if (!users.has(u.name)) users.set(u.name, u)
    for (const c of kc.getContexts()) if (!contexts.has(c.name)) contexts.set(c.name, c)
    currentContext ||= kc.getCurrentContext() ?? ''
  }
  const out = new KubeConfig()
  out.loadFromOptions({
    clusters: [...clusters.values()],
    users: [...users.values()],
    contexts: [...contexts.values()],
    currentContext,
  })
  return out
}

/**
 * Loads the configuration (see the top of this file for the precedence) and selects `context`
 * when given. Throws KubeConfigError: NONE when there is no configuration at all (client-node's
 * own default would silently be http://localhost:8080), UNREADABLE, CONTEXT, NO_CLUSTER.
 */
export function loadKubeConfig(options: KubeConfigOptions = {}): {
  kc: KubeConfig
  source: KubeConfigSource
} {
  const source = kubeConfigSource(options)
  if (!source) {
    const env = options.env ?? process.env
    const searched = env.KUBECONFIG
      ? `none of the files in KUBECONFIG (${env.KUBECONFIG}) exists`
      : `KUBECONFIG is not set and ${defaultKubeConfigFile(options.home)} does not exist`
    throw new KubeConfigError(
      'MESH_ERR_KUBECONFIG_NONE',
      `no kubeconfig: ${searched}, and not running in a pod`,
      {
        searched,
      },
    )
  }
  let kc: KubeConfig
  if (source.from === 'in-cluster') {
    kc = new KubeConfig()
    kc.loadFromCluster(options.root) // the server from process.env's KUBERNETES_SERVICE_HOST and _PORT
  } else {
    const configs = source.files.map(readFile)
    kc = configs.length === 1 ? configs[0]! : merge(configs)
  }
  if (options.context) {
    if (!kc.getContextObject(options.context)) {
      const contexts = kc.getContexts().map((c) => c.name)
      throw new KubeConfigError(
        'MESH_ERR_KUBECONFIG_CONTEXT',
        `context "${options.context}" is not in the kubeconfig (it has: ${contexts.join(', ') || 'none'})`,
        { contexts },
      )
    }
    kc.setCurrentContext(options.context)
  }
  if (!kc.getCurrentCluster()?.server)
    throw new KubeConfigError(
      'MESH_ERR_KUBECONFIG_NO_CLUSTER',
      'the kubeconfig has no current context with a cluster',
    )
  return { kc, source }
}
