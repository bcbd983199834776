// The Prometheus addon's scrape configuration, read from its manifest (apps/addons/prometheus.yaml,
// the one source), and what the local cluster needs to run it: the same jobs and relabelling with
// kubernetes_sd replaced by file_sd, and target files holding what kubernetes_sd would discover
// (the same __meta_kubernetes_* labels), so the manifest's relabelling selects the targets here too.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Endpoints, ObjectMeta, Pod } from '@minimesh/api/kube'
import { parseAllDocuments } from 'yaml'
import { DashboardError } from '../errors.ts'

/** apps/addons/prometheus.yaml in this checkout. */
export const ADDON_MANIFEST = join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  '..',
  'apps',
  'addons',
  'prometheus.yaml',
)

interface ScrapeConfig {
  job_name: string
  kubernetes_sd_configs?: { role: string; namespaces?: { names: string[] } }[]
  file_sd_configs?: { files: string[]; refresh_interval?: string }[]
  [key: string]: unknown
}

export interface PrometheusConfig {
  global?: Record<string, unknown>
  scrape_configs: ScrapeConfig[]
  [key: string]: unknown
}

/** The prometheus.yml of the addon's ConfigMap. */
export function readAddonConfig(manifestPath = ADDON_MANIFEST): PrometheusConfig {
  let text: string
  try {
    text = readFileSync(manifestPath, 'utf8')
  } catch (err) {
    throw new DashboardError(
      'MESH_ERR_DASHBOARD_ADDON',
      `cannot read ${manifestPath}: ${(err as Error).message}`,
      {
        cause: err,
      },
    )
  }
  for (const doc of parseAllDocuments(text)) {
    const o = doc.toJS() as {
      kind?: string
      metadata?: { name?: string }
      data?: Record<string, string>
    } | null
    if (o?.kind === 'ConfigMap' && o.data?.['prometheus.yml']) {
      const cfg = parseAllDocuments(o.data['prometheus.yml'])[0]?.toJS() as PrometheusConfig | undefined
      if (cfg && Array.isArray(cfg.scrape_configs)) return cfg
    }
  }
  throw new DashboardError(
    'MESH_ERR_DASHBOARD_ADDON',
    `${manifestPath} has no ConfigMap with a prometheus.yml`,
  )
}

/** The file a job's targets are kept in. */
export function targetsFile(dir: string, job: string): string {
  return join(dir, `${job}.json`)
}

/** The addon's config for the local cluster: each kubernetes_sd replaced by a file_sd of its job. */
export function localConfig(addon: PrometheusConfig, targetsDir: string): PrometheusConfig {
  return {
    ...addon,
    scrape_configs: addon.scrape_configs.map((job) => {
      const { kubernetes_sd_configs, ...rest } = job
      if (!kubernetes_sd_configs) return job
      return {
        ...rest,
        file_sd_configs: [{ files: [targetsFile(targetsDir, job.job_name)], refresh_interval: '5s' }],
      }
    }),
  }
}

/** A file_sd target group. */
export interface TargetGroup {
  targets: string[]
  labels: Record<string, string>
}

/** What kubernetes_sd reads of a pod and of an Endpoints (no apiVersion or kind needed). */
type DiscoveredPod = Pick<Pod, 'metadata' | 'spec' | 'status'>
type DiscoveredEndpoints = Pick<Endpoints, 'metadata' | 'subsets'>

/** Prometheus's label-name sanitising of Kubernetes label and annotation keys. */
function sanitize(key: string): string {
  return key.replace(/[^a-zA-Z0-9_]/g, '_')
}

function metaLabels(prefix: string, m: ObjectMeta): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(m.labels ?? {})) {
    out[`${prefix}_label_${sanitize(k)}`] = v
    out[`${prefix}_labelpresent_${sanitize(k)}`] = 'true'
  }
  for (const [k, v] of Object.entries(m.annotations ?? {})) {
    out[`${prefix}_annotation_${sanitize(k)}`] = v
    out[`${prefix}_annotationpresent_${sanitize(k)}`] = 'true'
  }
  return out
}

const host = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`)

/**
 * What kubernetes_sd role `pod` discovers: one target per container port of every pod with an IP,
 * init containers' included (`__meta_kubernetes_pod_container_init`), as Prometheus does: a native
 * sidecar's ports are there.
 */
function podTargets(pods: readonly DiscoveredPod[]): TargetGroup[] {
  const out: TargetGroup[] = []
  for (const p of pods) {
    const ip = p.status?.podIP
    if (!ip) continue
    const ready = p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True'
    const base = {
      __meta_kubernetes_namespace: p.metadata.namespace ?? 'default',
      __meta_kubernetes_pod_name: p.metadata.name,
      __meta_kubernetes_pod_ip: ip,
      __meta_kubernetes_pod_phase: p.status?.phase ?? 'Unknown',
      __meta_kubernetes_pod_ready: String(ready),
      ...metaLabels('__meta_kubernetes_pod', p.metadata),
    }
    const containers = [
      ...(p.spec?.containers ?? []).map((c) => ({ c, init: 'false' })),
      ...(p.spec?.initContainers ?? []).map((c) => ({ c, init: 'true' })),
    ]
    for (const { c, init } of containers) {
      for (const port of c.ports ?? []) {
        out.push({
          targets: [host(ip, port.containerPort)],
          labels: {
            ...base,
            __meta_kubernetes_pod_container_init: init,
            __meta_kubernetes_pod_container_name: c.name,
            __meta_kubernetes_pod_container_port_name: port.name ?? '',
            __meta_kubernetes_pod_container_port_number: String(port.containerPort),
            __meta_kubernetes_pod_container_port_protocol: port.protocol ?? 'TCP',
          },
        })
      }
    }
  }
  return out
}

/** What kubernetes_sd role `endpoints` discovers: one target per address and port of every Endpoints. */
function endpointsTargets(endpoints: readonly DiscoveredEndpoints[]): TargetGroup[] {
  const out: TargetGroup[] = []
  for (const e of endpoints) {
    for (const s of e.subsets ?? []) {
      for (const a of s.addresses ?? []) {
        for (const port of s.ports ?? []) {
          out.push({
            targets: [host(a.ip, port.port)],
            labels: {
              __meta_kubernetes_namespace: e.metadata.namespace ?? 'default',
              __meta_kubernetes_service_name: e.metadata.name,
              __meta_kubernetes_endpoints_name: e.metadata.name,
              __meta_kubernetes_endpoint_port_name: port.name ?? '',
              __meta_kubernetes_endpoint_port_protocol: port.protocol ?? 'TCP',
              __meta_kubernetes_endpoint_ready: 'true',
              ...(a.targetRef?.kind === 'Pod' && a.targetRef.name
                ? { __meta_kubernetes_pod_name: a.targetRef.name }
                : {}),
            },
          })
        }
      }
    }
  }
  return out
}

/** The target groups of each job, by the role of its kubernetes_sd (namespaces honoured). */
export function jobTargets(
  addon: PrometheusConfig,
  pods: readonly DiscoveredPod[],
  endpoints: readonly DiscoveredEndpoints[],
): Map<string, TargetGroup[]> {
  const out = new Map<string, TargetGroup[]>()
  for (const job of addon.scrape_configs) {
    const groups: TargetGroup[] = []
    for (const sd of job.kubernetes_sd_configs ?? []) {
      const names = sd.namespaces?.names
      const inNs = (m: ObjectMeta) => !names || names.includes(m.namespace ?? 'default')
      if (sd.role === 'pod') groups.push(...podTargets(pods.filter((p) => inNs(p.metadata))))
      else if (sd.role === 'endpoints')
        groups.push(...endpointsTargets(endpoints.filter((e) => inNs(e.metadata))))
    }
    if (job.kubernetes_sd_configs) out.set(job.job_name, groups)
  }
  return out
}
