// What the Job controller does, reduced to the local cluster's needs (one completion, one pod at
// a time): a pod per attempt named <job>-<suffix> and labelled job-name, a new attempt after a
// failed one until backoffLimit, the Job's status (active/succeeded/failed, Complete or Failed).
// Pure; the cluster runs the pods.
import type { Job, NewPod } from '@minimesh/api/kube'
import type { PodPhase } from './pod.ts'

/** The pod the Job controller would send to the API server for the next attempt. */
export function podFromJob(job: Job): NewPod {
  const t = structuredClone(job.spec.template)
  const meta = t.metadata ?? {}
  const name = job.metadata.name
  const uid = job.metadata.uid ?? ''
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${name}-`,
      namespace: job.metadata.namespace ?? 'default',
      labels: {
        ...(meta.labels ?? {}),
        'batch.kubernetes.io/controller-uid': uid,
        'batch.kubernetes.io/job-name': name,
        'controller-uid': uid,
        'job-name': name,
      },
      ...(meta.annotations ? { annotations: meta.annotations } : {}),
      ownerReferences: [
        {
          apiVersion: 'batch/v1',
          kind: 'Job',
          name,
          uid,
          controller: true,
          blockOwnerDeletion: true,
        } as never,
      ],
    },
    spec: {
      terminationGracePeriodSeconds: 30,
      ...t.spec,
      serviceAccountName: t.spec.serviceAccountName ?? t.spec.serviceAccount ?? 'default',
    },
  }
}

export type JobNext = { action: 'wait' } | { action: 'create'; delayMs: number } | { action: 'done' }

/** What to do now, from the phases of the Job's pods (not terminating). */
export function jobNext(job: Job, phases: readonly PodPhase[]): JobNext {
  const s = jobCounts(job, phases)
  if (s.complete || s.failedForGood) return { action: 'done' }
  if (s.active > 0) return { action: 'wait' }
  // The Job controller's backoff: 10 s doubling; here 1 s doubling (capped at 10 s), as pods restart.
  return { action: 'create', delayMs: s.failed === 0 ? 0 : Math.min(1000 * 2 ** (s.failed - 1), 10_000) }
}

function jobCounts(job: Job, phases: readonly PodPhase[]) {
  const succeeded = phases.filter((p) => p === 'Succeeded').length
  const failed = phases.filter((p) => p === 'Failed').length
  const active = phases.length - succeeded - failed
  const complete = succeeded >= (job.spec.completions ?? 1)
  const failedForGood = !complete && failed > (job.spec.backoffLimit ?? 6)
  return { succeeded, failed, active, complete, failedForGood }
}

/** The Job's status as the controller writes it. */
export function jobStatus(job: Job, phases: readonly PodPhase[], times: { start?: string; end?: string }) {
  const s = jobCounts(job, phases)
  const condition = s.complete
    ? { type: 'Complete', status: 'True', reason: 'CompletionsReached' }
    : s.failedForGood
      ? { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }
      : undefined
  return {
    ...(s.active ? { active: s.active } : {}),
    ...(s.succeeded ? { succeeded: s.succeeded } : {}),
    ...(s.failed ? { failed: s.failed } : {}),
    ...(times.start ? { startTime: times.start } : {}),
    ...(s.complete && times.end ? { completionTime: times.end } : {}),
    ...(condition ? { conditions: [{ ...condition, lastTransitionTime: times.end }] } : {}),
  }
}
