// kube-inject's view: a Kubernetes object (Pod, Deployment, …, CronJob, List) whose pod template
// goes through the same inject()/uninject() as the webhook's pods.

import type { PodTemplateSpec } from '@minimesh/api/kube'
import { DEFAULT_INJECT_CONFIG, type InjectConfig } from '../config.ts'
import { cloneJson, isRecord } from '../kube.ts'
import { NAMESPACE_INJECTION_LABEL, STATUS_ANNOTATION } from '../names.ts'
import { inject } from './inject.ts'
import { shouldInject } from './policy.ts'
import { uninject } from './uninject.ts'

type Obj = Record<string, unknown>

/** Where each workload kind keeps its pod template, and the API groups it is served in. */
const TEMPLATE_PATHS: Record<string, { groups: string[]; path: string[] }> = {
  Pod: { groups: [''], path: [] },
  ReplicationController: { groups: [''], path: ['spec', 'template'] },
  Deployment: { groups: ['apps', 'extensions'], path: ['spec', 'template'] },
  StatefulSet: { groups: ['apps'], path: ['spec', 'template'] },
  DaemonSet: { groups: ['apps', 'extensions'], path: ['spec', 'template'] },
  ReplicaSet: { groups: ['apps', 'extensions'], path: ['spec', 'template'] },
  Job: { groups: ['batch'], path: ['spec', 'template'] },
  CronJob: { groups: ['batch'], path: ['spec', 'jobTemplate', 'spec', 'template'] },
}

export interface ResourceResult {
  /** The object to write out (the same object when nothing changed). */
  object: Obj
  changed: boolean
  /** One line per pod template considered: `Deployment default/productpage-v1: <reason>`. */
  notes: string[]
}

function templatePath(obj: Obj): string[] | undefined {
  const def = typeof obj.kind === 'string' ? TEMPLATE_PATHS[obj.kind] : undefined
  if (!def || typeof obj.apiVersion !== 'string') return undefined
  const group = obj.apiVersion.includes('/') ? obj.apiVersion.split('/')[0]! : ''
  return def.groups.includes(group) ? def.path : undefined
}

function describe(obj: Obj): string {
  const meta = isRecord(obj.metadata) ? obj.metadata : {}
  return `${String(obj.kind)} ${String(meta.namespace ?? 'default')}/${String(meta.name ?? '?')}`
}

type PodFn = (pod: PodTemplateSpec, owner: Obj) => { pod: PodTemplateSpec; changed: boolean; note?: string }

function walk(obj: Obj, fn: PodFn): ResourceResult {
  if (obj.kind === 'List' && Array.isArray(obj.items)) {
    const notes: string[] = []
    let changed = false
    const items = obj.items.map((item: unknown) => {
      if (!isRecord(item)) return item
      const r = walk(item, fn)
      notes.push(...r.notes)
      changed ||= r.changed
      return r.object
    })
    return { object: changed ? { ...obj, items } : obj, changed, notes }
  }
  const path = templatePath(obj)
  if (!path) return { object: obj, changed: false, notes: [] }
  const holder = path.slice(0, -1).reduce<unknown>((o, k) => (isRecord(o) ? o[k] : undefined), obj)
  const template = path.length === 0 ? obj : isRecord(holder) ? holder[path.at(-1)!] : undefined
  if (!isRecord(template))
    return { object: obj, changed: false, notes: [`${describe(obj)}: no pod template`] }
  const asPod: PodTemplateSpec =
    path.length === 0
      ? (template as PodTemplateSpec)
      : ({ metadata: template.metadata, spec: template.spec } as PodTemplateSpec)
  if (asPod.metadata === undefined) delete asPod.metadata
  const r = fn(asPod, obj)
  const note = r.note ? [`${describe(obj)}: ${r.note}`] : []
  if (!r.changed) return { object: obj, changed: false, notes: note }
  if (path.length === 0) return { object: r.pod as Obj, changed: true, notes: note }
  // Rebuild the path down to the template with the new metadata and spec.
  const out = cloneJson(obj)
  const parent = path.slice(0, -1).reduce<Obj>((o, k) => o[k] as Obj, out)
  const tpl = { ...(parent[path.at(-1)!] as Obj) }
  if (r.pod.metadata !== undefined) tpl.metadata = r.pod.metadata
  else delete tpl.metadata
  tpl.spec = r.pod.spec
  parent[path.at(-1)!] = tpl
  return { object: out, changed: true, notes: note }
}

/**
 * Injects every pod template in a manifest object. The namespace counts as opted in (running
 * kube-inject is the opt-in), but the pod's own opt-out, hostNetwork and the mesh's namespaces
 * are honoured. Objects without a pod template come back as they are.
 */
export function injectResource(obj: Obj, config: InjectConfig = DEFAULT_INJECT_CONFIG): ResourceResult {
  return walk(obj, (pod, owner) => {
    const meta = isRecord(owner.metadata) ? owner.metadata : {}
    const ns = typeof meta.namespace === 'string' ? meta.namespace : undefined
    const decision = shouldInject(
      pod,
      { name: ns, labels: { [NAMESPACE_INJECTION_LABEL]: 'enabled' } },
      config,
    )
    if (!decision.inject) return { pod, changed: false, note: `not injected: ${decision.reason}` }
    const workloadName =
      owner.kind === 'Pod' ? undefined : typeof meta.name === 'string' ? meta.name : undefined
    return { pod: inject(pod, config, { workloadName }), changed: true }
  })
}

/** Takes the mesh out of every pod template in a manifest object (kube-inject --uninject). */
export function uninjectResource(obj: Obj): ResourceResult {
  return walk(obj, (pod) => {
    if (pod.metadata?.annotations?.[STATUS_ANNOTATION] === undefined) {
      return { pod, changed: false, note: 'not injected' }
    }
    return { pod: uninject(pod), changed: true }
  })
}
