import type { Finding } from '../finding.ts'
import { findKind } from '../resources/index.ts'
import { type FieldPath, formatPath } from '../schema/index.ts'
import type { SourcedObject } from '../yaml/load.ts'
import { DEFAULT_DOMAIN_SUFFIX, resolveHost } from './hosts.ts'
import { arr, rec, str, stringMap } from './read.ts'

export interface AnalyzeOptions {
  /** Namespace of an object that names none (as `kubectl apply` without `-n`). Default `default`. */
  defaultNamespace?: string
  /** Cluster DNS domain. Default `cluster.local`. */
  domainSuffix?: string
}

/** One input object with its identity resolved. */
export interface Entry {
  src: SourcedObject
  kind: string
  namespace: string
  name: string
  /** `spec`, or an empty object when it is missing or not an object. */
  spec: Record<string, unknown>
}

/** A Kubernetes `v1 Service` among the inputs. */
export interface ServiceInfo {
  entry: Entry
  fqdn: string
  clusterIP?: string
  selector: Record<string, string>
}

const CONTROLLERS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'])

/** Labels of the pods an object is or makes (a Pod; a workload controller's template), else undefined. */
function workloadLabels(obj: Record<string, unknown>): Record<string, string> | undefined {
  if (obj.apiVersion === 'v1' && obj.kind === 'Pod') return stringMap(rec(obj.metadata)?.labels)
  if (typeof obj.kind !== 'string' || !CONTROLLERS.has(obj.kind)) return undefined
  return stringMap(rec(rec(rec(obj.spec)?.template)?.metadata)?.labels)
}

/** The inputs sorted by kind, and the helpers every check shares. */
export class Inventory {
  readonly entries: Entry[] = []
  readonly services: ServiceInfo[] = []
  readonly virtualServices: Entry[] = []
  readonly destinationRules: Entry[] = []
  readonly gateways: Entry[] = []
  readonly quotaPolicies: Entry[] = []
  readonly authorizationPolicies: Entry[] = []
  /** Pods, and the pod templates of workload controllers, among the inputs: their namespace and labels. */
  readonly workloads: { entry: Entry; labels: Record<string, string> }[] = []
  /** Namespaces holding a `v1 Secret` of each name among the inputs (Gateway credentialName). */
  readonly secrets = new Map<string, Set<string>>()
  readonly peerAuthentications: Entry[] = []
  readonly suffix: string
  /** The resource each cross-resource finding is about (to list findings in input order). */
  readonly origin = new WeakMap<Finding, Entry>()
  private readonly byFqdn = new Map<string, ServiceInfo>()

  constructor(sources: readonly SourcedObject[], options: AnalyzeOptions = {}) {
    this.suffix = options.domainSuffix ?? DEFAULT_DOMAIN_SUFFIX
    const defaultNs = options.defaultNamespace ?? 'default'
    for (const src of sources) {
      const obj = src.object
      const meta = rec(obj.metadata)
      const entry: Entry = {
        src,
        kind: str(obj.kind) ?? '',
        namespace: str(meta?.namespace) ?? defaultNs,
        name: str(meta?.name) ?? '',
        spec: rec(obj.spec) ?? {},
      }
      this.entries.push(entry)
      if (obj.apiVersion === 'v1' && obj.kind === 'Service') {
        const svc: ServiceInfo = {
          entry,
          fqdn: `${entry.name}.${entry.namespace}.svc.${this.suffix}`,
          clusterIP: str(entry.spec.clusterIP),
          selector: stringMap(entry.spec.selector),
        }
        this.services.push(svc)
        this.byFqdn.set(svc.fqdn, svc) // the last one given wins, as when applied in order
        continue
      }
      const labels = workloadLabels(obj)
      if (labels) {
        this.workloads.push({ entry, labels })
        continue
      }
      if (obj.apiVersion === 'v1' && obj.kind === 'Secret') {
        const namespaces = this.secrets.get(entry.name) ?? new Set()
        namespaces.add(entry.namespace)
        this.secrets.set(entry.name, namespaces)
        continue
      }
      switch (findKind(obj.apiVersion, obj.kind)?.kind) {
        case 'VirtualService':
          this.virtualServices.push(entry)
          break
        case 'DestinationRule':
          this.destinationRules.push(entry)
          break
        case 'Gateway':
          this.gateways.push(entry)
          break
        case 'QuotaPolicy':
          this.quotaPolicies.push(entry)
          break
        case 'AuthorizationPolicy':
          this.authorizationPolicies.push(entry)
          break
        case 'PeerAuthentication':
          this.peerAuthentications.push(entry)
          break
      }
    }
  }

  /** A host as the resource in `entry` names it, resolved to a fully qualified name. */
  resolve(host: string, entry: Entry): string {
    return resolveHost(host, entry.namespace, this.suffix)
  }

  serviceByFqdn(fqdn: string): ServiceInfo | undefined {
    return this.byFqdn.get(fqdn)
  }

  /** True when a VirtualService applies to sidecars (the reserved `mesh` gateway). */
  appliesToMesh(vs: Entry): boolean {
    const gws = arr(vs.spec.gateways)
    return gws.length === 0 || gws.includes('mesh')
  }

  finding(
    entry: Entry,
    path: FieldPath,
    severity: Finding['severity'],
    code: string,
    message: string,
  ): Finding {
    const f: Finding = {
      severity,
      code,
      message,
      path: formatPath(path),
      kind: entry.kind,
      namespace: entry.namespace,
      name: entry.name,
      file: entry.src.file,
      line: entry.src.lineOf(path),
    }
    this.origin.set(f, entry)
    return f
  }

  /** `file:line` of an input, when it came from a file. */
  where(entry: Entry): string | undefined {
    const { file, line } = entry.src
    return file ? `${file}${line ? `:${line}` : ''}` : undefined
  }

  /** `kind ns/name (file:line)`, to point at another resource in a message. */
  describe(entry: Entry): string {
    const where = this.where(entry)
    return `${entry.kind} ${entry.namespace}/${entry.name}${where ? ` (${where})` : ''}`
  }
}
