import type { Labels } from '@minimesh/api/kube'
import { describe, expect, it } from 'vitest'
import { shouldInject } from '../inject/policy.ts'
import { webhookConfigurations } from './configurations.ts'

// biome-ignore lint/suspicious/noExplicitAny: JSON documents are navigated freely in tests
type Json = any

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'

interface Requirement {
  key: string
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'
  values?: string[]
}
interface Selector {
  matchLabels?: Labels
  matchExpressions?: Requirement[]
}

/** Kubernetes label selector semantics (apimachinery labels.Selector), for checking the generated selectors. */
function matches(sel: Selector | undefined, labels: Labels): boolean {
  if (!sel) return true
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false
  for (const r of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, r.key)
    const ok =
      r.operator === 'In'
        ? has && r.values!.includes(labels[r.key]!)
        : r.operator === 'NotIn'
          ? !has || !r.values!.includes(labels[r.key]!)
          : r.operator === 'Exists'
            ? has
            : !has
    if (!ok) return false
  }
  return true
}

describe('webhookConfigurations', () => {
  const { mutating, validating } = webhookConfigurations({
    caBundle: CA,
    service: { namespace: 'minimesh-system', name: 'meshd', port: 443 },
  }) as { mutating: Json; validating: Json }

  it('mutating: three pod CREATE webhooks, v1 reviews, no side effects, fail closed, 10 s, CA filled in', () => {
    expect(mutating.kind).toBe('MutatingWebhookConfiguration')
    expect(mutating.webhooks.map((w: Json) => w.name)).toEqual([
      'namespace.sidecar-injector.minimesh.dev',
      'object.sidecar-injector.minimesh.dev',
      'gateway.sidecar-injector.minimesh.dev',
    ])
    for (const w of mutating.webhooks) {
      expect(w).toMatchObject({
        sideEffects: 'None',
        failurePolicy: 'Fail',
        admissionReviewVersions: ['v1'],
        timeoutSeconds: 10,
        clientConfig: {
          service: { namespace: 'minimesh-system', name: 'meshd', port: 443, path: '/inject' },
          caBundle: Buffer.from(CA).toString('base64'),
        },
        rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
      })
    }
  })

  it('validating: the mesh groups and their resources on CREATE/UPDATE', () => {
    expect(validating.kind).toBe('ValidatingWebhookConfiguration')
    const [w] = validating.webhooks
    expect(w).toMatchObject({
      sideEffects: 'None',
      failurePolicy: 'Fail',
      admissionReviewVersions: ['v1'],
      timeoutSeconds: 10,
      clientConfig: { service: { path: '/validate' } },
    })
    expect(w.rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          operations: ['CREATE', 'UPDATE'],
          apiGroups: ['networking.istio.io'],
          resources: expect.arrayContaining(['virtualservices', 'destinationrules', 'gateways']),
        }),
        expect.objectContaining({ apiGroups: ['policy.minimesh.dev'], resources: ['quotapolicies'] }),
      ]),
    )
  })

  it('gateway: pods labelled for the gateway template, in any namespace (minimesh-system too), unless opted out', () => {
    const w = mutating.webhooks.find((x: Json) => x.name === 'gateway.sidecar-injector.minimesh.dev')
    expect(w.namespaceSelector).toBeUndefined()
    expect(w.objectSelector).toEqual({
      matchExpressions: [
        { key: 'sidecar.minimesh.dev/template', operator: 'In', values: ['gateway'] },
        { key: 'sidecar.minimesh.dev/inject', operator: 'NotIn', values: ['false'] },
      ],
    })
    expect(w).toMatchObject({ failurePolicy: 'Fail', reinvocationPolicy: 'Never', timeoutSeconds: 10 })
    const gatewayPod = { app: 'minimesh-ingressgateway', 'sidecar.minimesh.dev/template': 'gateway' }
    for (const ns of ['minimesh-system', 'kube-system', 'default', 'plain'])
      expect(
        matches(w.namespaceSelector, { 'kubernetes.io/metadata.name': ns }) &&
          matches(w.objectSelector, gatewayPod),
        ns,
      ).toBe(true)
    expect(matches(w.objectSelector, { app: 'x' })).toBe(false)
  })

  it('an already base64 caBundle is kept as it is', () => {
    const b64 = Buffer.from(CA).toString('base64')
    const { mutating: m } = webhookConfigurations({
      caBundle: b64,
      service: { namespace: 'n', name: 's' },
    }) as Json
    expect(m.webhooks[0].clientConfig.caBundle).toBe(b64)
    expect(m.webhooks[0].clientConfig.service.port).toBe(443)
  })

  // The selectors must send a pod to the webhook exactly when the policy (which sees labels the
  // same way) injects it, and never to two webhooks.
  const namespaces: [string, Labels][] = [
    ['default', { 'kubernetes.io/metadata.name': 'default', 'minimesh-injection': 'enabled' }],
    ['plain', { 'kubernetes.io/metadata.name': 'plain' }],
    ['off', { 'kubernetes.io/metadata.name': 'off', 'minimesh-injection': 'disabled' }],
    [
      'minimesh-system',
      { 'kubernetes.io/metadata.name': 'minimesh-system', 'minimesh-injection': 'enabled' },
    ],
    ['kube-system', { 'kubernetes.io/metadata.name': 'kube-system' }],
  ]
  const podLabels: Labels[] = [
    { app: 'x' },
    { app: 'x', 'sidecar.minimesh.dev/inject': 'true' },
    { app: 'x', 'sidecar.minimesh.dev/inject': 'false' },
    { app: 'x', 'sidecar.minimesh.dev/template': 'gateway' },
    { app: 'x', 'sidecar.minimesh.dev/template': 'gateway', 'sidecar.minimesh.dev/inject': 'true' },
    { app: 'x', 'sidecar.minimesh.dev/template': 'gateway', 'sidecar.minimesh.dev/inject': 'false' },
    { app: 'x', 'sidecar.minimesh.dev/template': 'sidecar' },
  ]
  for (const [ns, nsLabels] of namespaces) {
    for (const labels of podLabels) {
      it(`selectors agree with the policy: namespace ${ns}, pod ${JSON.stringify(labels)}`, () => {
        const hits = mutating.webhooks.filter(
          (w: Json) => matches(w.namespaceSelector, nsLabels) && matches(w.objectSelector, labels),
        )
        expect(hits.length).toBeLessThanOrEqual(1)
        const pod = { metadata: { namespace: ns, labels }, spec: { containers: [{ name: 'a' }] } }
        expect(hits.length === 1).toBe(shouldInject(pod, { name: ns, labels: nsLabels }).inject)
      })
    }
  }
})
