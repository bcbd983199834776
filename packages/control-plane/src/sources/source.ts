import type { Finding } from '@minimesh/api'
import type { KubeObject } from '@minimesh/api/kube'

/** The API group of an apiVersion (`networking.istio.io/v1` → `networking.istio.io`; `v1` → `core`). */
export function apiGroup(apiVersion: string): string {
  const slash = apiVersion.indexOf('/')
  return slash < 0 ? 'core' : apiVersion.slice(0, slash)
}

/** `group/kind/namespace/name`, the identity of an object whatever version it was written in. */
export function objectKey(obj: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): string {
  return `${apiGroup(obj.apiVersion)}/${obj.kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`
}

/** True when the value has the fields every object needs (apiVersion, kind, metadata.name). */
export function isKubeObject(value: unknown): value is KubeObject {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  const meta = v.metadata as Record<string, unknown> | undefined
  return (
    typeof v.apiVersion === 'string' &&
    typeof v.kind === 'string' &&
    typeof meta === 'object' &&
    meta !== null &&
    typeof meta.name === 'string' &&
    meta.name.length > 0
  )
}

/** Where a source puts what it reads. The control plane's ConfigStore implements it. */
export interface ConfigSink {
  /** Adds or replaces one object; `origin` says where it came from (a file, `kubernetes`). */
  upsert(obj: KubeObject, origin: string): void
  /** Removes the object with this key (see objectKey). */
  remove(key: string, origin: string): void
  /**
   * Problems reading an origin that are not about one object (a file that is not YAML, a document
   * without a name). An empty list clears them.
   */
  report(origin: string, findings: Finding[]): void
}

/**
 * A source of configuration: a watched directory of YAML files or a Kubernetes API server.
 * Every source fills the same sink, so the snapshot built from it does not depend on the source.
 */
export interface ConfigSource {
  /** `directory:<path>` or `kubernetes:<server>`, for logs and /debug/configz. */
  readonly description: string
  /** Reads the current state into the sink and starts watching; resolves once the first full read is in. */
  start(sink: ConfigSink): Promise<void>
  close(): Promise<void>
}
