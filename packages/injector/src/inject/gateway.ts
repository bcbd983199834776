// The gateway template (Istio's `inject.istio.io/templates: gateway`): a pod that runs the mesh's
// proxy itself, as the ingress gateway does, is labelled `sidecar.minimesh.dev/template: gateway`
// and goes through the injector only to get the mesh identity, which install-time manifests cannot
// carry (meshd makes the root at first start). Its `mesh-proxy` container gets the mesh roots
// (MESH_CA_ROOT_CERT), the projected CA token (volume `minimesh-token`, mounted read-only) and
// `--token-file`; nothing else: no init container, no sidecar, no capture, no annotations of the
// sidecar's. The status annotation records what was added to the container, so `uninject` gives
// back the exact pod. Without a mesh CA (no caRootCert) there is nothing to add: the pod is
// returned as it is.

import type { Container, PodSpec, PodTemplateSpec } from '@minimesh/api/kube'
import type { InjectConfig } from '../config.ts'
import { InjectError } from '../errors.ts'
import { cloneJson } from '../kube.ts'
import {
  CA_ROOT_CERT_ENV,
  GATEWAY_TEMPLATE,
  PROXY_CONTAINER_NAME,
  SIDECAR_TEMPLATE,
  STATUS_ANNOTATION,
  TEMPLATE_LABEL,
  TOKEN_DIR,
  TOKEN_VOLUME_NAME,
} from '../names.ts'
import type { ProxyAdditions, SidecarStatus } from './status.ts'
import { tokenVolume } from './template.ts'

/** The template a pod asks for with its label; undefined for the sidecar's (no label, or `sidecar`). */
function requestedTemplate(pod: PodTemplateSpec): string | undefined {
  const t = pod.metadata?.labels?.[TEMPLATE_LABEL]?.trim()
  return t === undefined || t === '' || t === SIDECAR_TEMPLATE ? undefined : t
}

/** True for a pod labelled for the gateway template. */
export function isGatewayPod(pod: PodTemplateSpec): boolean {
  return requestedTemplate(pod) === GATEWAY_TEMPLATE
}

/**
 * inject()'s hook: the pod injected with the template its label names, or undefined when it asks
 * for the sidecar. Throws MESH_ERR_INJECT_UNKNOWN_TEMPLATE for a template there is none of.
 */
export function injectTemplate(pod: PodTemplateSpec, config: InjectConfig): PodTemplateSpec | undefined {
  const template = requestedTemplate(pod)
  if (template === undefined) return undefined
  if (template === GATEWAY_TEMPLATE) return injectGateway(pod, config)
  throw new InjectError(
    'MESH_ERR_INJECT_UNKNOWN_TEMPLATE',
    `label ${TEMPLATE_LABEL}=${template}: no such template (known: ${GATEWAY_TEMPLATE}, ${SIDECAR_TEMPLATE})`,
  )
}

const TOKEN_FILE = `${TOKEN_DIR}/${TOKEN_VOLUME_NAME}`
const TOKEN_ARGS = ['--token-file', TOKEN_FILE]

function proxyOf(pod: PodTemplateSpec): Container {
  const containers = pod.spec?.containers
  if (!Array.isArray(containers))
    throw new InjectError('MESH_ERR_INJECT_INVALID_POD', 'not a pod: spec.containers is missing')
  const proxy = containers.find((c) => c?.name === PROXY_CONTAINER_NAME)
  if (!proxy)
    throw new InjectError(
      'MESH_ERR_INJECT_INVALID_POD',
      `the ${GATEWAY_TEMPLATE} template fills in the container named ${PROXY_CONTAINER_NAME}; the pod has none`,
    )
  return proxy
}

function checkNoClash(spec: PodSpec, proxy: Container): void {
  const clash = (what: string) => {
    throw new InjectError(
      'MESH_ERR_INJECT_CONFLICT',
      `the ${GATEWAY_TEMPLATE} template adds ${what}, which the pod already has`,
    )
  }
  if (spec.volumes !== undefined && !Array.isArray(spec.volumes))
    throw new InjectError('MESH_ERR_INJECT_INVALID_POD', 'spec.volumes is not a list')
  for (const [key, v] of [
    ['env', proxy.env],
    ['volumeMounts', proxy.volumeMounts],
    ['args', proxy.args],
  ] as const)
    if (v !== undefined && !Array.isArray(v))
      throw new InjectError('MESH_ERR_INJECT_INVALID_POD', `${PROXY_CONTAINER_NAME}.${key} is not a list`)
  if (spec.volumes?.some((v) => v?.name === TOKEN_VOLUME_NAME)) clash(`the volume ${TOKEN_VOLUME_NAME}`)
  if (proxy.env?.some((e) => e?.name === CA_ROOT_CERT_ENV)) clash(`the env ${CA_ROOT_CERT_ENV}`)
  const mounts = (proxy.volumeMounts ?? []) as { name?: string; mountPath?: string }[]
  if (mounts.some((m) => m?.name === TOKEN_VOLUME_NAME || m?.mountPath === TOKEN_DIR))
    clash(`a mount of ${TOKEN_DIR}`)
  if (
    (proxy.args as unknown[] | undefined)?.some((a) => typeof a === 'string' && a.startsWith('--token-file'))
  )
    clash('--token-file')
}

/**
 * The gateway template: fills the mesh identity into the pod's `mesh-proxy` container. Pure; a pod
 * that already carries the status annotation comes back unchanged (a copy).
 */
function injectGateway(pod: PodTemplateSpec, config: InjectConfig): PodTemplateSpec {
  if (pod.metadata?.annotations?.[STATUS_ANNOTATION] !== undefined) return cloneJson(pod)
  proxyOf(pod)
  if (config.caRootCert === undefined) return cloneJson(pod)
  const out = cloneJson(pod) as PodTemplateSpec & { spec: PodSpec }
  const spec = out.spec
  const proxy = proxyOf(out)
  checkNoClash(spec, proxy)
  const created: string[] = []
  const listOf = <T>(holder: Record<string, unknown>, key: string, name: string): T[] => {
    if (holder[key] === undefined) {
      holder[key] = []
      created.push(name)
    }
    return holder[key] as T[]
  }
  listOf(proxy, 'env', 'proxy.env').push({ name: CA_ROOT_CERT_ENV, value: config.caRootCert })
  listOf(proxy, 'volumeMounts', 'proxy.volumeMounts').push({
    name: TOKEN_VOLUME_NAME,
    mountPath: TOKEN_DIR,
    readOnly: true,
  })
  // Spelt out although it is the proxy's default, as for the sidecar: a runtime that maps mount
  // paths in args (the local cluster) then points the proxy at its copy.
  listOf<string>(proxy, 'args', 'proxy.args').push(...TOKEN_ARGS)
  listOf(spec, 'volumes', 'spec.volumes').push(tokenVolume())
  if (out.metadata === undefined) {
    out.metadata = {}
    created.push('metadata')
  }
  const additions: ProxyAdditions = {
    container: PROXY_CONTAINER_NAME,
    env: [CA_ROOT_CERT_ENV],
    volumeMounts: [TOKEN_VOLUME_NAME],
    args: TOKEN_ARGS,
  }
  const status: SidecarStatus = {
    template: GATEWAY_TEMPLATE,
    initContainers: [],
    containers: [],
    volumes: [TOKEN_VOLUME_NAME],
    annotations: [],
    proxy: additions,
  }
  if (out.metadata.annotations === undefined) {
    out.metadata.annotations = {}
    created.push('metadata.annotations')
  }
  if (created.length) status.created = created
  out.metadata.annotations[STATUS_ANNOTATION] = JSON.stringify(status)
  return out
}

/** Takes out of a container what a template added to it (uninject's hook); changes `pod`. */
export function removeProxyAdditions(pod: PodTemplateSpec, status: SidecarStatus): void {
  const a = status.proxy
  const c = a && pod.spec?.containers?.find((x) => x?.name === a.container)
  if (!a || !c) return
  const created = new Set(status.created ?? [])
  if (Array.isArray(c.env)) c.env = c.env.filter((e) => !a.env.includes(e?.name))
  if (Array.isArray(c.volumeMounts))
    c.volumeMounts = c.volumeMounts.filter((m) => !a.volumeMounts.includes(m?.name ?? ''))
  if (Array.isArray(c.args) && a.args.length > 0) {
    const args = c.args as string[]
    // The last place the added args appear in a row (they were appended).
    for (let i = args.length - a.args.length; i >= 0; i--) {
      if (a.args.every((x, j) => args[i + j] === x)) {
        args.splice(i, a.args.length)
        break
      }
    }
  }
  for (const key of ['env', 'volumeMounts', 'args'] as const) {
    const v = c[key]
    if (created.has(`proxy.${key}`) && Array.isArray(v) && v.length === 0) delete c[key]
  }
}
