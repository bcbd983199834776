// Label selectors and the webhook selection that uses them, as the API server evaluates them.
import { describe, expect, it } from 'vitest'
import { type AdmissionAttributes, matchingWebhooks, type Webhook } from '../admission/webhooks.ts'
import { kindByName, kindOf } from './kinds.ts'
import { matchesSelector, parseSelector } from './selector.ts'

describe('label selectors', () => {
  const labels = { app: 'reviews', version: 'v2', tier: 'backend' }
  it.each([
    [{ matchLabels: { app: 'reviews' } }, true],
    [{ matchLabels: { app: 'ratings' } }, false],
    [{ matchExpressions: [{ key: 'version', operator: 'In' as const, values: ['v1', 'v2'] }] }, true],
    [{ matchExpressions: [{ key: 'version', operator: 'NotIn' as const, values: ['v2'] }] }, false],
    [{ matchExpressions: [{ key: 'missing', operator: 'NotIn' as const, values: ['x'] }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'Exists' as const }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' as const }] }, false],
    [
      {
        matchLabels: { app: 'reviews' },
        matchExpressions: [{ key: 'missing', operator: 'In' as const, values: ['x'] }],
      },
      false,
    ],
    [{}, true],
  ])('%j → %s', (sel, want) => {
    expect(matchesSelector(sel, labels)).toBe(want)
  })
  it('parses the kubectl -l syntax', () => {
    expect(parseSelector('app=reviews,version!=v1,tier in (a, b),!gone,present')).toEqual({
      matchLabels: { app: 'reviews' },
      matchExpressions: [
        { key: 'version', operator: 'NotIn', values: ['v1'] },
        { key: 'tier', operator: 'In', values: ['a', 'b'] },
        { key: 'gone', operator: 'DoesNotExist' },
        { key: 'present', operator: 'Exists' },
      ],
    })
  })
})

describe('kinds', () => {
  it('knows the kinds it runs and names the others', () => {
    expect(kindByName('vs').kind).toBe('VirtualService')
    expect(kindOf({ apiVersion: 'networking.istio.io/v1beta1', kind: 'DestinationRule' }).plural).toBe(
      'destinationrules',
    )
    expect(() => kindOf({ apiVersion: 'batch/v1', kind: 'CronJob' })).toThrow(
      /does not run CronJob \(batch\/v1\)/,
    )
    expect(() => kindOf({ apiVersion: 'apps/v1beta9', kind: 'Deployment' })).toThrow(
      /does not run Deployment/,
    )
  })
})

describe('webhook selection', () => {
  const hook = (name: string, extra: Partial<Webhook>): Webhook => ({
    name,
    clientConfig: { url: 'https://x' },
    rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
    ...extra,
  })
  const config = (name: string, webhooks: Webhook[]) => ({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name },
    webhooks,
  })
  const pod = (labels: Record<string, string>, nsLabels: Record<string, string>): AdmissionAttributes => ({
    operation: 'CREATE',
    kind: kindByName('pod'),
    version: 'v1',
    name: '',
    namespace: 'default',
    object: { apiVersion: 'v1', kind: 'Pod', metadata: { labels } },
    namespaceLabels: nsLabels,
  })
  const configs = [
    config('b-injector', [
      hook('ns', {
        namespaceSelector: { matchLabels: { 'minimesh-injection': 'enabled' } },
        objectSelector: { matchExpressions: [{ key: 'inject', operator: 'NotIn', values: ['false'] }] },
      }),
      hook('obj', {
        namespaceSelector: {
          matchExpressions: [{ key: 'minimesh-injection', operator: 'NotIn', values: ['enabled'] }],
        },
        objectSelector: { matchLabels: { inject: 'true' } },
      }),
    ]),
    config('a-other', [
      hook('updates-only', {
        rules: [{ operations: ['UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
      }),
    ]),
  ]
  const names = (a: AdmissionAttributes) => matchingWebhooks(configs, a).map((m) => m.webhook.name)
  it('selects by namespace labels and object labels, never by operation it does not list', () => {
    expect(names(pod({}, { 'minimesh-injection': 'enabled' }))).toEqual(['ns'])
    expect(names(pod({ inject: 'false' }, { 'minimesh-injection': 'enabled' }))).toEqual([])
    expect(names(pod({}, {}))).toEqual([])
    expect(names(pod({ inject: 'true' }, {}))).toEqual(['obj'])
  })
  it('does not send a Service to a pods webhook', () => {
    expect(names({ ...pod({}, { 'minimesh-injection': 'enabled' }), kind: kindByName('svc') })).toEqual([])
  })
})
