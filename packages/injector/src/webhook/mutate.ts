// /inject: a pod CREATE review in, the JSON Patch of inject() out.
import { MeshError } from '@minimesh/api/errors'
import type { Labels, PodTemplateSpec } from '@minimesh/api/kube'
import type { Logger } from 'pino'
import type { InjectConfig } from '../config.ts'
import { inject } from '../inject/inject.ts'
import { shouldInject } from '../inject/policy.ts'
import { jsonPatch } from './patch.ts'
import { type AdmissionRequest, type AdmissionResponse, allow, denyError } from './review.ts'

/**
 * The labels of a namespace, or undefined when it is not known (then the namespace counts as
 * selected by the MutatingWebhookConfiguration, which is the only way the review got here).
 */
export type NamespaceLookup = (name: string) => Labels | undefined | Promise<Labels | undefined>

export interface MutateDeps {
  config: InjectConfig
  namespaceLookup?: NamespaceLookup
  logger: Logger
}

export type MutateOutcome = 'injected' | 'skipped' | 'denied'

export async function admitPod(
  req: AdmissionRequest,
  deps: MutateDeps,
): Promise<{ response: AdmissionResponse; outcome: MutateOutcome }> {
  if (req.kind.group !== '' || req.kind.kind !== 'Pod' || req.operation !== 'CREATE') {
    return { response: allow(req.uid), outcome: 'skipped' }
  }
  const pod = req.object as PodTemplateSpec
  const namespace = req.namespace || pod.metadata?.namespace || 'default'
  let labels: Labels | undefined
  if (deps.namespaceLookup) {
    try {
      labels = await deps.namespaceLookup(namespace)
    } catch (err) {
      deps.logger.warn({ err, namespace }, 'namespace lookup failed; trusting the webhook configuration')
    }
  }
  const who = `${namespace}/${pod.metadata?.name || pod.metadata?.generateName || '?'}`
  const decision = shouldInject(pod, { name: namespace, labels }, deps.config)
  if (!decision.inject) {
    deps.logger.debug({ pod: who, reason: decision.reason }, 'not injecting')
    return { response: allow(req.uid), outcome: 'skipped' }
  }
  let injected: PodTemplateSpec
  try {
    injected = inject(pod, deps.config)
  } catch (err) {
    // Only this pod is refused (with the status its error's code declares, else 500); the webhook
    // keeps serving the others.
    const response = denyError(req.uid, 'minimesh sidecar injection', err)
    const code = err instanceof MeshError ? err.code : undefined
    if ((response.status?.code ?? 500) >= 500) deps.logger.error({ pod: who, err }, 'injection failed')
    else deps.logger.warn({ pod: who, code, reason: (err as Error).message }, 'injection refused')
    return { response, outcome: 'denied' }
  }
  const patch = Buffer.from(JSON.stringify(jsonPatch(pod, injected))).toString('base64')
  deps.logger.debug({ pod: who, reason: decision.reason }, 'injected')
  return { response: { uid: req.uid, allowed: true, patchType: 'JSONPatch', patch }, outcome: 'injected' }
}
