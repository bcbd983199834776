// Waiting for workloads: what is ready, and the error that names what is not.
import { LocalClusterError } from './errors.ts'
import type { LabelSelector } from './kube/types.ts'

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
