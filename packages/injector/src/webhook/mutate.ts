// /inject: a pod CREATE review in, the JSON Patch of inject() out.

import type { Labels, PodTemplateSpec } from '@minimesh/api/kube'
import type { Logger } from 'pino'
import type { InjectConfig } from '../config.ts'
import { InjectError } from '../errors.ts'
import { inject } from '../inject/inject.ts'
import { shouldInject } from '../inject/policy.ts'
import { jsonPatch } from './patch.ts'
import { type AdmissionRequest, type AdmissionResponse, allow, deny } from './review.ts'

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
    if (!(err instanceof InjectError)) {
      // A pod shape inject() did not expect: refuse this pod, keep serving the others.
      deps.logger.error({ pod: who, err }, 'injection failed')
      return {
        response: deny(req.uid, `minimesh sidecar injection failed: ${(err as Error).message}`, 500),
        outcome: 'denied',
      }
    }
    deps.logger.warn({ pod: who, code: err.code, reason: err.message }, 'injection refused')
    return {
      response: deny(req.uid, `minimesh sidecar injection: ${err.message} [${err.code}]`),
      outcome: 'denied',
    }
  }
  const patch = Buffer.from(JSON.stringify(jsonPatch(pod, injected))).toString('base64')
  deps.logger.debug({ pod: who, reason: decision.reason }, 'injected')
  return { response: { uid: req.uid, allowed: true, patchType: 'JSONPatch', patch }, outcome: 'injected' }
}
