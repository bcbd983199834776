import { parseDuration } from '@minimesh/api'
import type { Container, PodSpec, PodTemplateSpec } from '@minimesh/api/kube'
import { DEFAULT_INJECT_CONFIG, type InjectConfig } from '../config.ts'
import { InjectError } from '../errors.ts'
import { cloneJson, isRecord } from '../kube.ts'
import {
  DEFAULT_CONTAINER_ANNOTATION,
  INIT_CONTAINER_NAME,
  PROMETHEUS_ANNOTATIONS,
  PROXY_CONTAINER_NAME,
  PROXY_VOLUME_NAME,
  REWRITE_PROBES_ANNOTATION,
  STATUS_ANNOTATION,
  TOKEN_VOLUME_NAME,
  WORKLOAD_CERT_TTL_ANNOTATION,
} from '../names.ts'
import { injectTemplate } from './gateway.ts'
import { type ProbeRewrite, rewriteProbes } from './probes.ts'
import { findProxy, isNativeSidecar, sidecarPlacement } from './sidecar.ts'
import type { SidecarStatus } from './status.ts'
import { initContainer, proxyContainer, proxyVolume, tokenVolume } from './template.ts'
import { tracingEnv } from './tracing.ts'
import { initArgs } from './traffic.ts'
import { workloadName } from './workload.ts'

export interface InjectContext {
  /** The workload's name (kube-inject knows the Deployment); derived from the pod otherwise. */
  workloadName?: string
}

/** The pod's workload certificate lifetime annotation, checked (undefined when absent). */
function certTtl(annotations: Record<string, string>): string | undefined {
  const value = annotations[WORKLOAD_CERT_TTL_ANNOTATION]?.trim()
  if (value === undefined) return undefined
  const ms = parseDuration(value)
  if (ms === undefined || ms < 1000)
    throw new InjectError(
      'MESH_ERR_INJECT_BAD_ANNOTATION',
      `annotation ${WORKLOAD_CERT_TTL_ANNOTATION}: ${JSON.stringify(value)} is not a duration of at least 1s (e.g. 1h, 90s)`,
    )
  return value
}

/** True when the pod already carries the sidecar (status annotation, or the mesh's containers). */
export function isInjected(pod: PodTemplateSpec): boolean {
  if (pod.metadata?.annotations?.[STATUS_ANNOTATION] !== undefined) return true
  const spec = pod.spec
  return (
    findProxy(pod) !== undefined ||
    (spec?.initContainers?.some((c) => c?.name === INIT_CONTAINER_NAME) ?? false)
  )
}

function checkPod(
  pod: PodTemplateSpec,
  config: InjectConfig,
): asserts pod is PodTemplateSpec & { spec: PodSpec } {
  if (!isRecord(pod) || !isRecord(pod.spec) || !Array.isArray(pod.spec.containers)) {
    throw new InjectError('MESH_ERR_INJECT_INVALID_POD', 'not a pod: spec.containers is missing')
  }
  if (pod.spec.containers.length === 0) {
    throw new InjectError('MESH_ERR_INJECT_INVALID_POD', 'spec.containers is empty')
  }
  for (const [i, c] of pod.spec.containers.entries()) {
    if (!isRecord(c) || typeof c.name !== 'string') {
      throw new InjectError('MESH_ERR_INJECT_INVALID_POD', `spec.containers[${i}].name is missing`)
    }
  }
  for (const key of ['initContainers', 'volumes'] as const) {
    const v = pod.spec[key]
    if (v !== undefined && !Array.isArray(v)) {
      throw new InjectError('MESH_ERR_INJECT_INVALID_POD', `spec.${key} is not a list`)
    }
  }
  const ours = config.caRootCert !== undefined ? [PROXY_VOLUME_NAME, TOKEN_VOLUME_NAME] : [PROXY_VOLUME_NAME]
  for (const name of ours) {
    if (pod.spec.volumes?.some((v) => v?.name === name)) {
      throw new InjectError('MESH_ERR_INJECT_CONFLICT', `the pod already has a volume named ${name}`)
    }
  }
  if (pod.metadata !== undefined && !isRecord(pod.metadata)) {
    throw new InjectError('MESH_ERR_INJECT_INVALID_POD', 'metadata is not an object')
  }
  for (const key of ['labels', 'annotations'] as const) {
    const v = pod.metadata?.[key]
    if (v !== undefined && !isRecord(v)) {
      throw new InjectError('MESH_ERR_INJECT_INVALID_POD', `metadata.${key} is not a map`)
    }
  }
  for (const [i, c] of pod.spec.containers.entries()) {
    if (c.ports !== undefined && !Array.isArray(c.ports)) {
      throw new InjectError('MESH_ERR_INJECT_INVALID_POD', `spec.containers[${i}].ports is not a list`)
    }
  }
}

function appPorts(containers: Container[]): number[] {
  const ports = new Set<number>()
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      if ((p.protocol ?? 'TCP') === 'TCP' && Number.isInteger(p.containerPort)) ports.add(p.containerPort)
    }
  }
  return [...ports]
}

/**
 * Injects the mesh into a pod: the `mesh-init` init container, the `mesh-proxy` sidecar, its
 * writable volume, the status annotation, Prometheus scrape annotations, and the app's probes
 * rewritten to go through the proxy's status port (see probes.ts). Pure: returns a new pod and
 * never changes its argument. A pod that is already injected comes back unchanged (a copy).
 * Throws InjectError for a pod it cannot inject (no containers, bad annotations, name clashes).
 */
export function inject(
  pod: PodTemplateSpec,
  config: InjectConfig = DEFAULT_INJECT_CONFIG,
  context: InjectContext = {},
): PodTemplateSpec {
  // A pod labelled for another template (the gateway's) gets that instead.
  const templated = injectTemplate(pod, config)
  if (templated) return templated
  if (isInjected(pod)) return cloneJson(pod)
  checkPod(pod, config)
  const out = cloneJson(pod) as PodTemplateSpec & { spec: PodSpec }
  const created: string[] = []
  if (out.metadata === undefined) {
    out.metadata = {}
    created.push('metadata')
  }
  const meta = out.metadata
  const spec = out.spec
  const podAnnotations = meta.annotations ?? {}
  const args = initArgs(config, podAnnotations)

  const placement = sidecarPlacement(config, podAnnotations)
  const apps = spec.containers
  // The app's own native sidecars (restartable init containers) serve and are probed like containers.
  const appSidecars = (spec.initContainers ?? []).filter(isNativeSidecar)
  const ports = appPorts([...apps, ...appSidecars])
  const rewriteProbesHere =
    config.rewriteAppProbes && podAnnotations[REWRITE_PROBES_ANNOTATION]?.toLowerCase() !== 'false'
  const probes: ProbeRewrite = rewriteProbesHere
    ? rewriteProbes([...apps, ...appSidecars], config.statusPort)
    : { probers: {}, originals: {} }
  const firstApp = apps[0]!.name
  const proxy = proxyContainer(config, {
    workloadName: context.workloadName ?? workloadName(pod),
    labels: meta.labels ?? {},
    appPorts: ports,
    probers: probes.probers,
    placement,
    certTtl: certTtl(podAnnotations),
    tracingEnv: tracingEnv(config, podAnnotations),
  })

  if (spec.initContainers === undefined) {
    spec.initContainers = []
    created.push('spec.initContainers')
  }
  if (placement.native) {
    // First: the pod's own init containers then run with the mesh (captured and proxied).
    spec.initContainers.unshift(initContainer(config, args), proxy)
  } else {
    spec.initContainers.push(initContainer(config, args))
    if (placement.hold) spec.containers.unshift(proxy)
    else spec.containers.push(proxy)
  }
  if (spec.volumes === undefined) {
    spec.volumes = []
    created.push('spec.volumes')
  }
  spec.volumes.push(proxyVolume())
  const volumes = [PROXY_VOLUME_NAME]
  if (config.caRootCert !== undefined) {
    spec.volumes.push(tokenVolume())
    volumes.push(TOKEN_VOLUME_NAME)
  }

  if (meta.annotations === undefined) {
    meta.annotations = {}
    created.push('metadata.annotations')
  }
  const annotations = meta.annotations
  const added: string[] = []
  const add = (key: string, value: string) => {
    annotations[key] = value
    added.push(key)
  }
  if (annotations[DEFAULT_CONTAINER_ANNOTATION] === undefined) add(DEFAULT_CONTAINER_ANNOTATION, firstApp)
  // An app that sets its own prometheus.io/* annotations keeps them (its scrape config wins).
  const P = PROMETHEUS_ANNOTATIONS
  if (config.prometheusAnnotations && [P.scrape, P.port, P.path].every((k) => annotations[k] === undefined)) {
    add(P.scrape, 'true')
    add(P.port, String(config.statusPort))
    add(P.path, '/stats/prometheus')
  }
  const status: SidecarStatus = {
    initContainers: placement.native ? [INIT_CONTAINER_NAME, PROXY_CONTAINER_NAME] : [INIT_CONTAINER_NAME],
    containers: placement.native ? [] : [PROXY_CONTAINER_NAME],
    volumes,
    annotations: added,
  }
  if (created.length) status.created = created
  if (Object.keys(probes.originals).length) status.probes = probes.originals
  annotations[STATUS_ANNOTATION] = JSON.stringify(status)
  return out
}
