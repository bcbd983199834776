import type { Probe } from '@minimesh/api/kube'
import { InjectError } from '../errors.ts'
import { isRecord } from '../kube.ts'
import type { ProbeKind } from './probes.ts'

/**
 * The value of `sidecar.minimesh.dev/status` on an injected pod: what injection added, and just
 * enough of what it changed for `uninject` to give back the exact pod it was given.
 */
export interface SidecarStatus {
  initContainers: string[]
  containers: string[]
  volumes: string[]
  /** Annotations injection added (besides the status itself). */
  annotations: string[]
  /**
   * Fields injection had to create because the pod had none, so uninject can remove them again:
   * `metadata`, `metadata.annotations`, `spec.initContainers`, `spec.volumes`.
   */
  created?: string[]
  /** The app probes injection rewrote, exactly as they were: container name → probe kind → probe. */
  probes?: Record<string, Partial<Record<ProbeKind, Probe>>>
  /** The template applied, when not the sidecar's (`gateway`, see gateway.ts). */
  template?: string
  /** What a template added to a container the pod already had (the gateway's proxy). */
  proxy?: ProxyAdditions
}

/** Additions to an existing container: env names, volume mount names, and the args appended. */
export interface ProxyAdditions {
  container: string
  env: string[]
  volumeMounts: string[]
  args: string[]
}

function proxyAdditions(v: unknown): v is ProxyAdditions {
  return (
    isRecord(v) &&
    typeof v.container === 'string' &&
    stringArray(v.env) &&
    stringArray(v.volumeMounts) &&
    stringArray(v.args)
  )
}

function stringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string')
}

/** Reads a status annotation; throws MESH_ERR_INJECT_BAD_STATUS when it is not one we wrote. */
export function parseStatus(raw: string): SidecarStatus {
  let v: unknown
  try {
    v = JSON.parse(raw)
  } catch (cause) {
    throw new InjectError(
      'MESH_ERR_INJECT_BAD_STATUS',
      `status annotation is not JSON: ${raw.slice(0, 80)}`,
      {
        cause,
      },
    )
  }
  if (
    !isRecord(v) ||
    !stringArray(v.initContainers) ||
    !stringArray(v.containers) ||
    !stringArray(v.volumes) ||
    !(v.annotations === undefined || stringArray(v.annotations)) ||
    !(v.created === undefined || stringArray(v.created)) ||
    !(v.probes === undefined || isRecord(v.probes)) ||
    !(v.template === undefined || typeof v.template === 'string') ||
    !(v.proxy === undefined || proxyAdditions(v.proxy))
  ) {
    throw new InjectError(
      'MESH_ERR_INJECT_BAD_STATUS',
      'status annotation lacks initContainers, containers or volumes (string arrays)',
    )
  }
  return {
    initContainers: v.initContainers,
    containers: v.containers,
    volumes: v.volumes,
    annotations: (v.annotations as string[] | undefined) ?? [],
    ...(v.created ? { created: v.created as string[] } : {}),
    ...(v.probes ? { probes: v.probes as SidecarStatus['probes'] } : {}),
    ...(typeof v.template === 'string' ? { template: v.template } : {}),
    ...(v.proxy ? { proxy: v.proxy as ProxyAdditions } : {}),
  }
}
