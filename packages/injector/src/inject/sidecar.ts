// Where the proxy sits in a pod. Native (Kubernetes' sidecar containers): an init container with
// `restartPolicy: Always` right after mesh-init; the kubelet starts it before the app (the next
// init container waits for its startupProbe), restarts it, and stops it after the app, so a Job's
// pod completes. Classic: a container beside the app, first and holding the app until it is
// ready (postStart `mesh-proxy wait`), draining on SIGTERM and told to exit by a Job through
// /quitquitquit. Everything that looks for the proxy looks in both lists through here.

import type { Container, PodTemplateSpec } from '@minimesh/api/kube'
import type { InjectConfig } from '../config.ts'
import { InjectError } from '../errors.ts'
import { HOLD_APPLICATION_ANNOTATION, NATIVE_SIDECAR_ANNOTATION, PROXY_CONTAINER_NAME } from '../names.ts'

export interface SidecarPlacement {
  /** In initContainers with restartPolicy Always. */
  native: boolean
  /** Classic only: first container, postStart waits for readiness. */
  hold: boolean
}

function flag(annotations: Record<string, string>, key: string): boolean | undefined {
  const v = annotations[key]
  if (v === undefined) return undefined
  const t = v.trim().toLowerCase()
  if (t === 'true') return true
  if (t === 'false') return false
  throw new InjectError(
    'MESH_ERR_INJECT_BAD_ANNOTATION',
    `annotation ${key}: "${v}" is not "true" or "false"`,
  )
}

/** The placement for a pod: its annotations first, then the injector's settings. */
export function sidecarPlacement(
  config: InjectConfig,
  annotations: Record<string, string> = {},
): SidecarPlacement {
  const native = flag(annotations, NATIVE_SIDECAR_ANNOTATION) ?? config.nativeSidecars
  const hold =
    !native && (flag(annotations, HOLD_APPLICATION_ANNOTATION) ?? config.holdApplicationUntilProxyStarts)
  return { native, hold }
}

/** A restartable init container (a native sidecar): it keeps running beside the app. */
export function isNativeSidecar(c: Container | undefined): boolean {
  return c?.restartPolicy === 'Always'
}

export interface ProxyLocation {
  container: Container
  list: 'containers' | 'initContainers'
  index: number
}

/** The pod's mesh-proxy, wherever it is (a classic container or a native sidecar). */
export function findProxy(pod: PodTemplateSpec): ProxyLocation | undefined {
  for (const list of ['initContainers', 'containers'] as const) {
    const items = pod.spec?.[list]
    if (!Array.isArray(items)) continue
    const index = items.findIndex((c) => c?.name === PROXY_CONTAINER_NAME)
    if (index >= 0) return { container: items[index]!, list, index }
  }
  return undefined
}
