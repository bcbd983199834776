// The MutatingWebhookConfiguration and ValidatingWebhookConfiguration that point the API server at
// meshd's webhooks, generated so they always match the policy in inject/policy.ts.
//
// Selectors only see labels, never annotations. So, as Istio does, there are two mutating webhooks:
//   namespace.sidecar-injector.minimesh.dev: namespaces labelled minimesh-injection=enabled, except
//     pods labelled sidecar.minimesh.dev/inject=false;
//   object.sidecar-injector.minimesh.dev: every other namespace, only pods labelled
//     sidecar.minimesh.dev/inject=true.
//   gateway.sidecar-injector.minimesh.dev: pods labelled sidecar.minimesh.dev/template=gateway in
//     any namespace, the mesh's own included (the ingress gateway runs in minimesh-system), except
//     pods labelled sidecar.minimesh.dev/inject=false; they get the gateway template (inject/gateway.ts).
// The first two leave out the mesh's and Kubernetes' own namespaces and gateway-template pods, so
// a pod is sent to exactly one of the three. The *annotation*
// sidecar.minimesh.dev/inject is honoured by the webhook logic for pods the selectors send (it can
// opt a pod out in an enabled namespace); to opt a pod in from an unlabelled namespace, use the label.
import { MESH_KINDS } from '@minimesh/api'
import type { KubeObject } from '@minimesh/api/kube'
import { DEFAULT_INJECT_CONFIG } from '../config.ts'
import { GATEWAY_TEMPLATE, INJECT_LABEL, NAMESPACE_INJECTION_LABEL, TEMPLATE_LABEL } from '../names.ts'

export interface WebhookConfigurationOptions {
  /** The CA that signed the serving certificate: PEM, or already base64 of the PEM. */
  caBundle: string
  service: { namespace: string; name: string; port?: number }
  /** Namespaces never sent to the injector (default: the mesh's and Kubernetes' own). */
  neverInjectNamespaces?: string[]
  /** Object names (default minimesh-sidecar-injector / minimesh-validator). */
  names?: { mutating?: string; validating?: string }
}

type Obj = Record<string, unknown>

function base64Bundle(ca: string): string {
  return ca.includes('-----BEGIN') ? Buffer.from(ca).toString('base64') : ca
}

function webhook(name: string, clientConfig: Obj, rules: Obj[], extra: Obj): Obj {
  return {
    name,
    clientConfig,
    rules,
    ...extra,
    sideEffects: 'None',
    failurePolicy: 'Fail',
    admissionReviewVersions: ['v1'],
    timeoutSeconds: 10,
  }
}

export function webhookConfigurations(options: WebhookConfigurationOptions): {
  mutating: KubeObject
  validating: KubeObject
} {
  const caBundle = base64Bundle(options.caBundle)
  const { namespace, name, port = 443 } = options.service
  const client = (path: string) => ({ service: { namespace, name, port, path }, caBundle })
  const never = options.neverInjectNamespaces ?? DEFAULT_INJECT_CONFIG.neverInjectNamespaces
  const notMeshNamespace = { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: never }
  const podRules = [
    { operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: '*' },
  ]
  const mutatingExtra = { matchPolicy: 'Equivalent', reinvocationPolicy: 'Never' }
  const notGateway = { key: TEMPLATE_LABEL, operator: 'NotIn', values: [GATEWAY_TEMPLATE] }
  const mutating = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: options.names?.mutating ?? 'minimesh-sidecar-injector', labels: { app: 'meshd' } },
    webhooks: [
      webhook('namespace.sidecar-injector.minimesh.dev', client('/inject'), podRules, {
        ...mutatingExtra,
        namespaceSelector: {
          matchLabels: { [NAMESPACE_INJECTION_LABEL]: 'enabled' },
          matchExpressions: [notMeshNamespace],
        },
        objectSelector: {
          matchExpressions: [{ key: INJECT_LABEL, operator: 'NotIn', values: ['false'] }, notGateway],
        },
      }),
      webhook('object.sidecar-injector.minimesh.dev', client('/inject'), podRules, {
        ...mutatingExtra,
        namespaceSelector: {
          // NotIn also matches namespaces without the label.
          matchExpressions: [
            { key: NAMESPACE_INJECTION_LABEL, operator: 'NotIn', values: ['enabled'] },
            notMeshNamespace,
          ],
        },
        objectSelector: {
          matchExpressions: [{ key: INJECT_LABEL, operator: 'In', values: ['true'] }, notGateway],
        },
      }),
      // No namespaceSelector: the label is the opt-in, wherever the gateway runs.
      webhook('gateway.sidecar-injector.minimesh.dev', client('/inject'), podRules, {
        ...mutatingExtra,
        objectSelector: {
          matchExpressions: [
            { key: TEMPLATE_LABEL, operator: 'In', values: [GATEWAY_TEMPLATE] },
            { key: INJECT_LABEL, operator: 'NotIn', values: ['false'] },
          ],
        },
      }),
    ],
  }
  const groups = [...new Set(MESH_KINDS.map((k) => k.group))]
  const validating = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: options.names?.validating ?? 'minimesh-validator', labels: { app: 'meshd' } },
    webhooks: [
      webhook(
        'validation.minimesh.dev',
        client('/validate'),
        groups.map((group) => ({
          operations: ['CREATE', 'UPDATE'],
          apiGroups: [group],
          apiVersions: ['*'],
          resources: MESH_KINDS.filter((k) => k.group === group).map((k) => k.plural),
          scope: '*',
        })),
        { matchPolicy: 'Equivalent' },
      ),
    ],
  }
  return { mutating, validating }
}
