// Who gets a sidecar. The same rules as Istio's injection policy:
//   1. hostNetwork pods never (capture would change the node's own networking);
//   2. pods in the mesh's own and Kubernetes' system namespaces never;
//   3. a pod that is already injected is not injected again;
//   4. the pod's `sidecar.minimesh.dev/inject` label, else the same annotation, decides when set;
//   5. else the namespace label `minimesh-injection=enabled`.
// A pod labelled `sidecar.minimesh.dev/template: gateway` (it runs the mesh's proxy itself) gets the
// gateway template in any namespace, hostNetwork or not (it adds no capture), unless it opts out.
// Without the namespace's labels (the webhook has no lookup), the namespace counts as enabled: the
// MutatingWebhookConfiguration's namespaceSelector already chose it.

import type { Labels, PodTemplateSpec } from '@minimesh/api/kube'
import { DEFAULT_INJECT_CONFIG, type InjectConfig } from '../config.ts'
import {
  GATEWAY_TEMPLATE,
  INJECT_ANNOTATION,
  INJECT_LABEL,
  NAMESPACE_INJECTION_LABEL,
  STATUS_ANNOTATION,
  TEMPLATE_LABEL,
} from '../names.ts'
import { isGatewayPod } from './gateway.ts'
import { isInjected } from './inject.ts'

export interface NamespaceInfo {
  name?: string
  /** The namespace's labels; undefined = unknown (treated as selected by the webhook configuration). */
  labels?: Labels
}

export interface InjectDecision {
  inject: boolean
  reason: string
}

const YES = new Set(['true', 'yes', 'y', 'on', 'enabled'])
const NO = new Set(['false', 'no', 'n', 'off', 'disabled'])

function parseFlag(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined
  const v = value.trim().toLowerCase()
  return YES.has(v) ? true : NO.has(v) ? false : undefined
}

export function shouldInject(
  pod: PodTemplateSpec,
  namespace: NamespaceInfo | undefined,
  config: Pick<InjectConfig, 'neverInjectNamespaces'> = DEFAULT_INJECT_CONFIG,
): InjectDecision {
  const nsName = namespace?.name || pod.metadata?.namespace || 'default'
  if (isGatewayPod(pod)) return gatewayDecision(pod)
  if (pod.spec?.hostNetwork === true) return { inject: false, reason: 'pod uses hostNetwork' }
  if (config.neverInjectNamespaces.includes(nsName)) {
    return { inject: false, reason: `pods in namespace ${nsName} are never injected` }
  }
  if (isInjected(pod)) return { inject: false, reason: 'already injected' }
  const label = pod.metadata?.labels?.[INJECT_LABEL]
  const byLabel = parseFlag(label)
  if (byLabel !== undefined) return { inject: byLabel, reason: `pod label ${INJECT_LABEL}=${label}` }
  const annotation = pod.metadata?.annotations?.[INJECT_ANNOTATION]
  const byAnnotation = parseFlag(annotation)
  if (byAnnotation !== undefined) {
    return { inject: byAnnotation, reason: `pod annotation ${INJECT_ANNOTATION}=${annotation}` }
  }
  const labels = namespace?.labels
  if (labels === undefined) {
    return { inject: true, reason: `namespace ${nsName} selected by the webhook configuration` }
  }
  const value = labels[NAMESPACE_INJECTION_LABEL]
  if (value === 'enabled') {
    return { inject: true, reason: `namespace ${nsName} has ${NAMESPACE_INJECTION_LABEL}=enabled` }
  }
  return {
    inject: false,
    reason:
      value === undefined
        ? `namespace ${nsName} is not labelled ${NAMESPACE_INJECTION_LABEL}=enabled`
        : `namespace ${nsName} has ${NAMESPACE_INJECTION_LABEL}=${value}`,
  }
}

/** The gateway template: the pod's label asked for it; only an explicit opt-out or a done one stops it. */
function gatewayDecision(pod: PodTemplateSpec): InjectDecision {
  const label = pod.metadata?.labels?.[INJECT_LABEL]
  if (parseFlag(label) === false) return { inject: false, reason: `pod label ${INJECT_LABEL}=${label}` }
  const annotation = pod.metadata?.annotations?.[INJECT_ANNOTATION]
  if (parseFlag(annotation) === false)
    return { inject: false, reason: `pod annotation ${INJECT_ANNOTATION}=${annotation}` }
  if (pod.metadata?.annotations?.[STATUS_ANNOTATION] !== undefined)
    return { inject: false, reason: 'already injected (gateway template)' }
  return { inject: true, reason: `pod label ${TEMPLATE_LABEL}=${GATEWAY_TEMPLATE}` }
}
