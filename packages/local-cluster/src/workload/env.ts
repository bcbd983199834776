// A container's environment as the kubelet builds it: service links, the spec's env with the
// downward API filled in ($(VAR) references expanded), envFrom; and volume paths mapped to the host.

import type { Container, Pod, Service } from '@minimesh/api/kube'
import { LocalClusterError } from '../errors.ts'

export interface EnvSources {
  /** Secret or ConfigMap data (already base64-decoded), or undefined when absent. */
  secret(namespace: string, name: string): Record<string, string> | undefined
  configMap(namespace: string, name: string): Record<string, string> | undefined
  /** Services of the pod's namespace that exist when the container starts. */
  services: readonly Service[]
  /** The host's address as the pod sees it (status.hostIP). */
  hostIp: string
}

function labelsText(m: Record<string, string> | undefined): string {
  return Object.entries(m ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v}"`)
    .join('\n')
}

/** The downward API value of a fieldRef. */
export function fieldValue(pod: Pod, path: string, hostIp: string): string {
  const meta = pod.metadata
  const status = pod.status ?? {}
  const keyed = /^metadata\.(labels|annotations)\['([^']+)'\]$/.exec(path)
  if (keyed) return (keyed[1] === 'labels' ? meta.labels : meta.annotations)?.[keyed[2]!] ?? ''
  switch (path) {
    case 'metadata.name':
      return meta.name ?? ''
    case 'metadata.namespace':
      return meta.namespace ?? 'default'
    case 'metadata.uid':
      return meta.uid ?? ''
    case 'metadata.labels':
      return labelsText(meta.labels)
    case 'metadata.annotations':
      return labelsText(meta.annotations)
    case 'spec.nodeName':
      return 'local'
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? pod.spec.serviceAccount ?? 'default'
    case 'status.podIP':
      return String(status.podIP ?? '')
    case 'status.podIPs':
      return String(status.podIP ?? '')
    case 'status.hostIP':
    case 'status.hostIPs':
      return hostIp
    default:
      throw new LocalClusterError(
        'MESH_ERR_LOCAL_INVALID',
        `pod ${meta.namespace}/${meta.name}: fieldRef "${path}" is not supported by the downward API`,
      )
  }
}

/** Expands $(VAR) from `vars` ($$ escapes), as Kubernetes does in env values, command and args. */
export function expandVars(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$'
    return name !== undefined && Object.hasOwn(vars, name) ? vars[name]! : m
  })
}

/** `{SVC}_SERVICE_HOST`, `{SVC}_SERVICE_PORT`, `{SVC}_PORT_…` for each Service with a ClusterIP. */
function serviceLinkEnv(services: readonly Service[]): Record<string, string> {
  const env: Record<string, string> = {}
  for (const s of [...services].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
    const ip = s.spec.clusterIP
    const ports = s.spec.ports ?? []
    if (!ip || ip === 'None' || ports.length === 0) continue
    const name = s.metadata.name.toUpperCase().replace(/-/g, '_')
    const first = ports[0]!
    env[`${name}_SERVICE_HOST`] = ip
    env[`${name}_SERVICE_PORT`] = String(first.port)
    env[`${name}_PORT`] = `${(first.protocol ?? 'TCP').toLowerCase()}://${ip}:${first.port}`
    for (const p of ports) {
      const proto = (p.protocol ?? 'TCP').toUpperCase()
      if (p.name) env[`${name}_SERVICE_PORT_${p.name.toUpperCase().replace(/-/g, '_')}`] = String(p.port)
      const base = `${name}_PORT_${p.port}_${proto}`
      env[base] = `${proto.toLowerCase()}://${ip}:${p.port}`
      env[`${base}_PROTO`] = proto.toLowerCase()
      env[`${base}_PORT`] = String(p.port)
      env[`${base}_ADDR`] = ip
    }
  }
  return env
}

/** The full environment of a container (PATH and HOME included). */
export function containerEnv(pod: Pod, c: Container, src: EnvSources, uid: number): Record<string, string> {
  const ns = pod.metadata.namespace ?? 'default'
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOSTNAME: pod.metadata.name,
    HOME: uid === 0 ? '/root' : '/',
  }
  if (pod.spec.enableServiceLinks !== false) Object.assign(env, serviceLinkEnv(src.services))
  const missing = (what: string) =>
    new LocalClusterError(
      'MESH_ERR_LOCAL_NOT_FOUND',
      `pod ${ns}/${pod.metadata.name} container ${c.name}: ${what}`,
    )
  for (const from of c.envFrom ?? []) {
    const data = from.configMapRef
      ? src.configMap(ns, from.configMapRef.name)
      : from.secretRef
        ? src.secret(ns, from.secretRef.name)
        : undefined
    if (!data) throw missing(`envFrom ${from.configMapRef ? 'configmap' : 'secret'} not found`)
    for (const [k, v] of Object.entries(data)) env[`${from.prefix ?? ''}${k}`] = v
  }
  for (const e of c.env ?? []) {
    const vf = e.valueFrom
    if (!vf) {
      env[e.name] = expandVars(e.value ?? '', env)
    } else if (vf.fieldRef) {
      env[e.name] = fieldValue(pod, vf.fieldRef.fieldPath, src.hostIp)
    } else if (vf.secretKeyRef || vf.configMapKeyRef) {
      const ref = (vf.secretKeyRef ?? vf.configMapKeyRef)!
      const data = vf.secretKeyRef ? src.secret(ns, ref.name) : src.configMap(ns, ref.name)
      const value = data?.[ref.key]
      if (value === undefined) {
        if (ref.optional) continue
        throw missing(
          `env ${e.name}: key "${ref.key}" of ${vf.secretKeyRef ? 'secret' : 'configmap'} "${ref.name}" not found`,
        )
      }
      env[e.name] = value
    } else if (vf.resourceFieldRef) {
      env[e.name] = '0'
    }
  }
  return env
}

/** Replaces each volume's mountPath (as a path prefix) with the host directory that stands for it. */
export function mapMountPaths(
  text: string,
  mounts: readonly { mountPath: string; hostPath: string }[],
): string {
  let out = text
  for (const m of [...mounts].sort((a, b) => b.mountPath.length - a.mountPath.length)) {
    const mp = m.mountPath.replace(/\/$/, '')
    if (!mp) continue
    const re = new RegExp(`(^|[=:,\\s])${mp.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=/|$|[\\s,:])`, 'g')
    out = out.replace(re, (_m, lead: string) => `${lead}${m.hostPath}`)
  }
  return out
}
