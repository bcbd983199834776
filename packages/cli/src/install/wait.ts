// Waiting with visible progress: the pure reading of a Deployment's rollout (kubectl rollout
// status's rules), of pods' readiness and of why a pod is stuck, and one polling loop.
import { setTimeout as sleep } from 'node:timers/promises'
import type { Deployment, KubeObject, Pod } from '@minimesh/api/kube'
import { InstallError } from './errors.ts'

export interface WaitState {
  done: boolean
  /** One line for the user: what is being waited for right now. */
  message: string
  /** Set when waiting longer cannot help (e.g. the progress deadline passed): stop and say this. */
  failed?: string
}

/** Where a Deployment's rollout is, with kubectl rollout status's wording. */
export function deploymentRollout(obj: KubeObject): WaitState {
  const dep = obj as Deployment
  const name = `deployment "${dep.metadata.name}"`
  const st = dep.status ?? {}
  if ((dep.metadata.generation ?? 0) > (st.observedGeneration ?? 0)) {
    return { done: false, message: `waiting for ${name} spec update to be observed...` }
  }
  const progressing = st.conditions?.find((c) => c.type === 'Progressing')
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return {
      done: false,
      message: `${name} exceeded its progress deadline`,
      failed: `${name} exceeded its progress deadline`,
    }
  }
  const want = dep.spec?.replicas ?? 1
  const updated = st.updatedReplicas ?? 0
  const replicas = st.replicas ?? 0
  const available = st.availableReplicas ?? 0
  if (updated < want) {
    return { done: false, message: `${name}: ${updated} of ${want} new replicas updated...` }
  }
  if (replicas > updated) {
    return { done: false, message: `${name}: ${replicas - updated} old replicas pending termination...` }
  }
  if (available < updated) {
    return { done: false, message: `${name}: ${available} of ${updated} updated replicas available...` }
  }
  return { done: true, message: `${name} successfully rolled out` }
}

export function podReady(obj: KubeObject): boolean {
  const pod = obj as Pod
  if (pod.metadata.deletionTimestamp) return false
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false
}

/** Waiting reasons that more waiting does not cure for our locally built images. */
const FATAL_REASONS = new Set(['ErrImageNeverPull', 'InvalidImageName', 'CreateContainerConfigError'])

function imageHint(reason: string, image: string | undefined): string {
  if (!/Image/.test(reason)) return ''
  const img = image ?? 'the image'
  return ` (is ${img} on the node? On kind: \`make images\`, then \`kind load docker-image --name minimesh ${img}\`, or just \`bash kind/up.sh\`; elsewhere push it to a registry the nodes pull from and pass --hub)`
}

/** Why a pod is not ready, one phrase per stuck container (`mesh-init: CrashLoopBackOff`). */
export function podProblems(obj: KubeObject): { problems: string[]; fatal?: string } {
  const pod = obj as Pod
  const problems: string[] = []
  let fatal: string | undefined
  const all = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]
  for (const c of all) {
    const waiting = c.state?.waiting
    if (waiting?.reason && waiting.reason !== 'PodInitializing' && waiting.reason !== 'ContainerCreating') {
      const line = `${pod.metadata.name}/${c.name}: ${waiting.reason}${imageHint(waiting.reason, c.image)}`
      problems.push(line)
      if (FATAL_REASONS.has(waiting.reason))
        fatal ??= `${line}${waiting.message ? `: ${waiting.message}` : ''}`
    } else if (
      c.state?.terminated &&
      c.state.terminated.exitCode !== 0 &&
      c.state.terminated.reason !== 'Completed'
    ) {
      problems.push(
        `${pod.metadata.name}/${c.name}: exited ${c.state.terminated.exitCode} (${c.state.terminated.reason})`,
      )
    }
  }
  const unschedulable = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False')
  if (unschedulable)
    problems.push(`${pod.metadata.name}: not scheduled (${unschedulable.reason ?? 'pending'})`)
  return fatal ? { problems, fatal } : { problems }
}

/** Readiness of the pods a selector matched: done when there is at least one and all are Ready. */
export function podsReadiness(pods: KubeObject[], what: string): WaitState {
  const live = pods.filter((p) => !p.metadata.deletionTimestamp)
  if (live.length === 0) return { done: false, message: `${what}: no pods yet...` }
  const ready = live.filter(podReady).length
  const details = live.map(podProblems)
  const problems = details.flatMap((d) => d.problems)
  const fatal = details.find((d) => d.fatal)?.fatal
  const message = `${what}: ${ready} of ${live.length} pods ready${problems.length ? ` (${problems.join('; ')})` : ''}`
  if (ready === live.length) return { done: true, message }
  return fatal ? { done: false, message, failed: fatal } : { done: false, message }
}

export interface WaitOptions {
  timeoutMs: number
  intervalMs?: number
  /** Called with each new progress line (only when it changed). */
  progress?: (line: string) => void
  signal?: AbortSignal
}

/**
 * Polls `check` until it is done; prints each new message. Throws MESH_ERR_INSTALL_TIMEOUT with the
 * last message when time runs out or a check reports `failed`.
 */
export async function waitUntil(
  what: string,
  check: () => Promise<WaitState>,
  options: WaitOptions,
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs
  const interval = options.intervalMs ?? 1000
  let last = ''
  for (;;) {
    const state = await check()
    if (state.message !== last) {
      last = state.message
      options.progress?.(state.message)
    }
    if (state.done) return
    if (state.failed) throw new InstallError('MESH_ERR_INSTALL_TIMEOUT', `${what} failed: ${state.failed}`)
    if (Date.now() + interval > deadline) {
      throw new InstallError(
        'MESH_ERR_INSTALL_TIMEOUT',
        `${what} did not finish within ${Math.round(options.timeoutMs / 1000)}s; last state: ${last}`,
      )
    }
    await sleep(interval, undefined, options.signal ? { signal: options.signal } : undefined)
  }
}
