import type { KubeObject } from '@minimesh/api/kube'
import { describe, expect, it } from 'vitest'
import { InstallError } from './errors.ts'
import { deploymentRollout, podProblems, podReady, podsReadiness, waitUntil } from './wait.ts'

function deployment(generation: number, status: Record<string, unknown>, replicas = 2): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'meshd', namespace: 'minimesh-system', generation },
    spec: { replicas },
    status,
  }
}

function pod(
  name: string,
  ready: boolean,
  waiting?: { container: string; reason: string; image?: string },
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    status: {
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      containerStatuses: waiting
        ? [{ name: waiting.container, image: waiting.image, state: { waiting: { reason: waiting.reason } } }]
        : [{ name: 'app', ready, state: { running: {} } }],
    },
  }
}

describe('deploymentRollout (kubectl rollout status rules)', () => {
  it('waits for the new spec to be observed', () => {
    expect(deploymentRollout(deployment(3, { observedGeneration: 2 }))).toMatchObject({
      done: false,
      message: expect.stringContaining('spec update to be observed'),
    })
  })
  it('counts updated, then old, then available replicas', () => {
    const base = { observedGeneration: 1 }
    expect(deploymentRollout(deployment(1, { ...base, updatedReplicas: 1, replicas: 2 })).message).toContain(
      '1 of 2 new replicas updated',
    )
    expect(
      deploymentRollout(deployment(1, { ...base, updatedReplicas: 2, replicas: 3, availableReplicas: 2 }))
        .message,
    ).toContain('1 old replicas pending termination')
    expect(
      deploymentRollout(deployment(1, { ...base, updatedReplicas: 2, replicas: 2, availableReplicas: 1 }))
        .message,
    ).toContain('1 of 2 updated replicas available')
    expect(
      deploymentRollout(deployment(1, { ...base, updatedReplicas: 2, replicas: 2, availableReplicas: 2 })),
    ).toEqual({
      done: true,
      message: 'deployment "meshd" successfully rolled out',
    })
  })
  it('fails for good past the progress deadline', () => {
    const state = deploymentRollout(
      deployment(1, {
        observedGeneration: 1,
        conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
      }),
    )
    expect(state.failed).toContain('exceeded its progress deadline')
  })
})

describe('pods', () => {
  it('a terminating pod is not ready', () => {
    const p = pod('a', true)
    p.metadata.deletionTimestamp = '2026-01-01T00:00:00Z'
    expect(podReady(p)).toBe(false)
    expect(podReady(pod('a', true))).toBe(true)
  })
  it('names the stuck container and, for a missing image, how to build and load it', () => {
    const { problems, fatal } = podProblems(
      pod('meshd-1', false, {
        container: 'meshd',
        reason: 'ErrImageNeverPull',
        image: 'minimesh/meshd:0.1.0',
      }),
    )
    expect(problems[0]).toContain('meshd-1/meshd: ErrImageNeverPull')
    expect(problems[0]).toContain('kind load docker-image --name minimesh minimesh/meshd:0.1.0')
    expect(fatal).toBeDefined()
    const crash = podProblems(pod('r-1', false, { container: 'mesh-init', reason: 'CrashLoopBackOff' }))
    expect(crash.problems).toEqual(['r-1/mesh-init: CrashLoopBackOff'])
    expect(crash.fatal).toBeUndefined()
  })
  it('podsReadiness needs at least one pod and all of them ready', () => {
    expect(podsReadiness([], 'app=x').done).toBe(false)
    expect(podsReadiness([pod('a', true), pod('b', false)], 'app=x')).toMatchObject({
      done: false,
      message: 'app=x: 1 of 2 pods ready',
    })
    expect(podsReadiness([pod('a', true), pod('b', true)], 'app=x').done).toBe(true)
  })
})

describe('waitUntil', () => {
  it('prints each new state once and returns when done', async () => {
    const states = ['a', 'a', 'b', 'done']
    const lines: string[] = []
    await waitUntil(
      'x',
      async () => {
        const m = states.shift()!
        return { done: m === 'done', message: m }
      },
      { timeoutMs: 5000, intervalMs: 1, progress: (l) => lines.push(l) },
    )
    expect(lines).toEqual(['a', 'b', 'done'])
  })
  it('times out with the last state', async () => {
    const err = await waitUntil('rollout of meshd', async () => ({ done: false, message: '0 of 1 ready' }), {
      timeoutMs: 30,
      intervalMs: 10,
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InstallError)
    expect((err as InstallError).code).toBe('MESH_ERR_INSTALL_TIMEOUT')
    expect((err as InstallError).message).toMatch(
      /rollout of meshd did not finish within 0s; last state: 0 of 1 ready/,
    )
  })
  it('stops at once on a failed state', async () => {
    let calls = 0
    const err = await waitUntil(
      'w',
      async () => {
        calls++
        return { done: false, message: 'm', failed: 'image missing' }
      },
      { timeoutMs: 10_000, intervalMs: 1 },
    ).catch((e: unknown) => e)
    expect(calls).toBe(1)
    expect((err as Error).message).toBe('w failed: image missing')
  })
})
