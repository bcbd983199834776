// The Job controller's pure parts: the pod of an attempt, what to do next, the Job's status.

import type { Job } from '@minimesh/api/kube'
import { describe, expect, it } from 'vitest'
import { jobNext, jobStatus, podFromJob } from './jobs.ts'

const job = (spec: Partial<Job['spec']> = {}): Job => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'migrate', namespace: 'default', uid: 'u-1' },
  spec: {
    template: {
      metadata: { labels: { app: 'migrate' }, annotations: { a: 'b' } },
      spec: { restartPolicy: 'Never', containers: [{ name: 'm', image: 'x' }] },
    },
    ...spec,
  },
})

describe('jobs', () => {
  it('a pod per attempt: generateName, job-name labels, the Job as controller', () => {
    const pod = podFromJob(job())
    expect(pod.metadata).toMatchObject({
      generateName: 'migrate-',
      namespace: 'default',
      labels: {
        app: 'migrate',
        'job-name': 'migrate',
        'batch.kubernetes.io/job-name': 'migrate',
        'controller-uid': 'u-1',
      },
      annotations: { a: 'b' },
    })
    expect(pod.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'batch/v1',
        kind: 'Job',
        name: 'migrate',
        uid: 'u-1',
        controller: true,
        blockOwnerDeletion: true,
      },
    ])
    expect(pod.spec).toMatchObject({ restartPolicy: 'Never', serviceAccountName: 'default' })
  })

  it('next: a first pod at once, wait while one runs, back off after failures, stop when done', () => {
    expect(jobNext(job(), [])).toEqual({ action: 'create', delayMs: 0 })
    expect(jobNext(job(), ['Running'])).toEqual({ action: 'wait' })
    expect(jobNext(job(), ['Failed'])).toEqual({ action: 'create', delayMs: 1000 })
    expect(jobNext(job(), ['Failed', 'Failed', 'Failed'])).toEqual({ action: 'create', delayMs: 4000 })
    expect(jobNext(job(), ['Failed', 'Succeeded'])).toEqual({ action: 'done' })
    expect(jobNext(job({ backoffLimit: 1 }), ['Failed', 'Failed'])).toEqual({ action: 'done' })
  })

  it('status: counts and the Complete or Failed condition', () => {
    const times = { start: 't0', end: 't1' }
    expect(jobStatus(job(), ['Running'], times)).toEqual({ active: 1, startTime: 't0' })
    expect(jobStatus(job(), ['Failed', 'Succeeded'], times)).toMatchObject({
      succeeded: 1,
      failed: 1,
      completionTime: 't1',
      conditions: [{ type: 'Complete', status: 'True' }],
    })
    expect(jobStatus(job({ backoffLimit: 0 }), ['Failed'], times)).toMatchObject({
      failed: 1,
      conditions: [{ type: 'Failed', reason: 'BackoffLimitExceeded' }],
    })
  })
})
