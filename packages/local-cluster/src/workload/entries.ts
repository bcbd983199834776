// What the cluster keeps per running pod and per Deployment being reconciled.
import type { KubeObject } from '@minimesh/api/kube'
import type { PodRunner } from './pod.ts'

export interface ReconcileState {
  running: boolean
  again: boolean
  failure?: string
  retry?: NodeJS.Timeout
  backoff: number
}

export interface PodEntry {
  runner: PodRunner
  deployment?: string
  hash?: string
  /** The Job (object key) that made this pod. */
  job?: string
  terminating: boolean
  started: Promise<void>
}

/** A Pod as `get` shows it: its live status, and a deletion timestamp while it terminates. */
export function withPodStatus(o: KubeObject, e: PodEntry | undefined): KubeObject {
  if (!e) return o
  return {
    ...o,
    metadata: { ...o.metadata, ...(e.terminating ? { deletionTimestamp: new Date().toISOString() } : {}) },
    status: e.runner.status(),
  }
}
