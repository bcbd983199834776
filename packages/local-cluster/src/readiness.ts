// Waiting for workloads: what is ready, and the error that names what is not.

import type { Deployment, LabelSelector } from '@minimesh/api/kube'
import { LocalClusterError } from './errors.ts'
import { objectKey } from './kube/kinds.ts'
import { matchesSelector, parseSelector } from './kube/selector.ts'
import { templateHash } from './workload/deployments.ts'
import type { PodEntry, ReconcileState } from './workload/entries.ts'

export interface WaitOptions {
  namespace?: string
  /** Label selector (`app=reviews,version=v1`) or a LabelSelector. */
  selector?: string | LabelSelector
  timeoutMs?: number
  onProgress?: (summary: ReadinessSummary) => void
}

export interface ReadinessSummary {
  ready: boolean
  items: { kind: string; namespace: string; name: string; ready: number; want: number; message?: string }[]
}

/** MESH_ERR_LOCAL_TIMEOUT naming every Deployment or Pod that is not ready, and why where known. */
export function notReadyError(summary: ReadinessSummary, timeoutMs: number): LocalClusterError {
  const waiting = summary.items
    .filter((i) => i.ready < i.want)
    .map((i) => `${i.kind.toLowerCase()}/${i.name} ${i.ready}/${i.want}${i.message ? ` (${i.message})` : ''}`)
  return new LocalClusterError(
    'MESH_ERR_LOCAL_TIMEOUT',
    `not ready after ${timeoutMs} ms: ${waiting.join(', ') || 'nothing matches'}`,
  )
}

/**
 * What is ready among the Deployments and Pods a wait would look at: a Deployment when its wanted
 * pods of the current template are ready and the old ones gone (like `kubectl rollout status`), a
 * bare Pod when it is ready; nothing while Endpoints and DNAT rules lag behind (`unsynced`).
 */
export function summarizeReadiness(
  deployments: readonly Deployment[],
  pods: ReadonlyMap<string, PodEntry>,
  reconciling: ReadonlyMap<string, ReconcileState>,
  unsynced: boolean,
  opts: Pick<WaitOptions, 'namespace' | 'selector'>,
): ReadinessSummary {
  const sel = typeof opts.selector === 'string' ? parseSelector(opts.selector) : opts.selector
  const items: ReadinessSummary['items'] = []
  for (const d of deployments) {
    // A selector picks pods: a Deployment counts when the pods it makes would match.
    if (!matchesSelector(sel, d.spec.template.metadata?.labels)) continue
    const key = objectKey(d)
    const hash = templateHash(d)
    const mine = [...pods.values()].filter((e) => e.deployment === key)
    const want = d.spec.replicas ?? 1
    const current = mine.filter((e) => !e.terminating && e.hash === hash)
    const ready = current.filter((e) => e.runner.ready).length
    // Like `kubectl rollout status`: done when the wanted pods are ready and the old ones gone.
    const settled = mine.length === want && current.length === want
    const failure = reconciling.get(key)?.failure ?? current.find((e) => e.runner.message)?.runner.message
    items.push({
      kind: 'Deployment',
      namespace: d.metadata.namespace!,
      name: d.metadata.name,
      ready: settled ? ready : Math.min(ready, want - 1),
      want,
      ...(failure ? { message: failure } : {}),
    })
  }
  for (const [, e] of pods) {
    const p = e.runner.pod
    // A Job's pods, and pods that ran to completion, are not waited on (as kubectl rollout status).
    if (e.deployment || e.job || e.terminating || e.runner.phase === 'Succeeded') continue
    if (opts.namespace && p.metadata.namespace !== opts.namespace) continue
    if (!matchesSelector(sel, p.metadata.labels)) continue
    items.push({
      kind: 'Pod',
      namespace: p.metadata.namespace!,
      name: p.metadata.name,
      ready: e.runner.ready ? 1 : 0,
      want: 1,
      ...(e.runner.message ? { message: e.runner.message } : {}),
    })
  }
  // Ready only once Endpoints and DNAT rules have caught up with the pods.
  return {
    ready: items.length > 0 && items.every((i) => i.ready >= i.want) && !unsynced,
    items,
  }
}
