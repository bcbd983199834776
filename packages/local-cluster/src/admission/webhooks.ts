// Which admission webhooks an API request goes to, decided as kube-apiserver decides it: the
// webhook's rules (operations, apiGroups, apiVersions, resources, scope), then its
// namespaceSelector (on the namespace's labels) and objectSelector (on the object's labels).
// Pure; admission/admission.ts calls the webhooks.
import { randomUUID } from 'node:crypto'
import type { KubeObject, LabelSelector, Labels, NewObject } from '@minimesh/api/kube'
import type { KindInfo } from '../kube/kinds.ts'
import { matchesSelector } from '../kube/selector.ts'

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT'

interface RuleWithOperations {
  operations?: string[]
  apiGroups?: string[]
  apiVersions?: string[]
  resources?: string[]
  scope?: 'Cluster' | 'Namespaced' | '*'
}

export interface WebhookClientConfig {
  url?: string
  service?: { name: string; namespace: string; path?: string; port?: number }
  caBundle?: string
}

export interface Webhook {
  name: string
  clientConfig: WebhookClientConfig
  rules?: RuleWithOperations[]
  namespaceSelector?: LabelSelector
  objectSelector?: LabelSelector
  failurePolicy?: 'Fail' | 'Ignore'
  timeoutSeconds?: number
  admissionReviewVersions?: string[]
  sideEffects?: string
  matchPolicy?: string
  reinvocationPolicy?: string
}

export interface WebhookConfiguration extends KubeObject {
  webhooks?: Webhook[]
}

export interface AdmissionAttributes {
  operation: Operation
  kind: KindInfo
  version: string
  /** The object as it would be stored (CREATE/UPDATE), or the stored one (DELETE). */
  object?: NewObject
  oldObject?: KubeObject
  namespace?: string
  name: string
  /** Labels of the request's namespace (absent for cluster-scoped objects). */
  namespaceLabels?: Labels
}

const anyOf = (list: string[] | undefined, value: string) =>
  !!list && (list.includes('*') || list.includes(value))

function ruleMatches(rule: RuleWithOperations, a: AdmissionAttributes): boolean {
  if (!anyOf(rule.operations, a.operation)) return false
  if (!anyOf(rule.apiGroups, a.kind.group)) return false
  if (!anyOf(rule.apiVersions, a.version)) return false
  const resources = rule.resources ?? []
  if (!resources.includes('*') && !resources.includes(a.kind.plural) && !resources.includes('*/*'))
    return false
  const scope = rule.scope ?? '*'
  if (scope === 'Cluster' && a.kind.namespaced) return false
  if (scope === 'Namespaced' && !a.kind.namespaced) return false
  return true
}

/** Whether a webhook gets this request. */
export function webhookMatches(w: Webhook, a: AdmissionAttributes): boolean {
  if (!(w.rules ?? []).some((r) => ruleMatches(r, a))) return false
  const obj = a.object ?? a.oldObject
  // namespaceSelector applies to namespaced objects (and to Namespace objects, on their own labels).
  if (a.kind.namespaced) {
    if (!matchesSelector(w.namespaceSelector, a.namespaceLabels ?? {})) return false
  } else if (a.kind.kind === 'Namespace') {
    if (!matchesSelector(w.namespaceSelector, obj?.metadata.labels)) return false
  }
  const objectLabels = [a.object?.metadata.labels, a.oldObject?.metadata.labels].filter(
    (l) => l !== undefined,
  )
  if (objectLabels.length === 0) objectLabels.push({})
  return objectLabels.some((l) => matchesSelector(w.objectSelector, l))
}

/** Every webhook of the configurations that matches, in the API server's order (configuration name, then position). */
export function matchingWebhooks(
  configs: readonly WebhookConfiguration[],
  a: AdmissionAttributes,
): { config: string; webhook: Webhook }[] {
  return [...configs]
    .sort((x, y) => x.metadata.name.localeCompare(y.metadata.name))
    .flatMap((c) =>
      (c.webhooks ?? [])
        .filter((w) => webhookMatches(w, a))
        .map((w) => ({ config: c.metadata.name, webhook: w })),
    )
}

/** The AdmissionReview v1 request body kube-apiserver would send. */
export function admissionReview(a: AdmissionAttributes, uid = randomUUID()): Record<string, unknown> {
  const gvk = { group: a.kind.group, version: a.version, kind: a.kind.kind }
  const gvr = { group: a.kind.group, version: a.version, resource: a.kind.plural }
  const options =
    a.operation === 'DELETE'
      ? { apiVersion: 'meta.k8s.io/v1', kind: 'DeleteOptions' }
      : { apiVersion: 'meta.k8s.io/v1', kind: a.operation === 'CREATE' ? 'CreateOptions' : 'UpdateOptions' }
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: gvk,
      resource: gvr,
      requestKind: gvk,
      requestResource: gvr,
      name: a.name,
      ...(a.kind.namespaced ? { namespace: a.namespace ?? 'default' } : {}),
      operation: a.operation,
      userInfo: { username: 'minimesh-local', groups: ['system:masters', 'system:authenticated'] },
      object: a.object ?? null,
      oldObject: a.oldObject ?? null,
      dryRun: false,
      options,
    },
  }
}
