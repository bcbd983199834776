import type { Labels, PodTemplateSpec } from '@minimesh/api/kube'
import { describe, expect, it } from 'vitest'
import { inject } from './inject.ts'
import { shouldInject } from './policy.ts'

function pod(opts: {
  labels?: Labels
  annotations?: Record<string, string>
  ns?: string
  hostNetwork?: boolean
}): PodTemplateSpec {
  return {
    metadata: {
      name: 'p',
      namespace: opts.ns ?? 'default',
      labels: opts.labels,
      annotations: opts.annotations,
    },
    spec: { containers: [{ name: 'app' }], ...(opts.hostNetwork ? { hostNetwork: true } : {}) },
  }
}
const enabled = { name: 'default', labels: { 'minimesh-injection': 'enabled' } }
const plain = { name: 'default', labels: {} }
const disabled = { name: 'default', labels: { 'minimesh-injection': 'disabled' } }

describe('shouldInject', () => {
  const cases: [string, PodTemplateSpec, Parameters<typeof shouldInject>[1], boolean, RegExp][] = [
    ['enabled namespace', pod({}), enabled, true, /has minimesh-injection=enabled/],
    ['unlabelled namespace', pod({}), plain, false, /not labelled/],
    ['disabled namespace', pod({}), disabled, false, /minimesh-injection=disabled/],
    ['unknown namespace labels', pod({}), { name: 'default' }, true, /selected by the webhook configuration/],
    ['no namespace info at all', pod({}), undefined, true, /selected by the webhook configuration/],
    [
      'annotation opts out',
      pod({ annotations: { 'sidecar.minimesh.dev/inject': 'false' } }),
      enabled,
      false,
      /annotation/,
    ],
    [
      'annotation opts in',
      pod({ annotations: { 'sidecar.minimesh.dev/inject': 'true' } }),
      plain,
      true,
      /annotation/,
    ],
    [
      'annotation "Yes" opts in',
      pod({ annotations: { 'sidecar.minimesh.dev/inject': 'Yes' } }),
      plain,
      true,
      /annotation/,
    ],
    [
      'an unreadable annotation is ignored',
      pod({ annotations: { 'sidecar.minimesh.dev/inject': 'maybe' } }),
      plain,
      false,
      /not labelled/,
    ],
    [
      'label opts in over a disabled namespace',
      pod({ labels: { 'sidecar.minimesh.dev/inject': 'true' } }),
      disabled,
      true,
      /label/,
    ],
    [
      'label wins over annotation',
      pod({
        labels: { 'sidecar.minimesh.dev/inject': 'false' },
        annotations: { 'sidecar.minimesh.dev/inject': 'true' },
      }),
      enabled,
      false,
      /label/,
    ],
    [
      'hostNetwork never',
      pod({ hostNetwork: true, annotations: { 'sidecar.minimesh.dev/inject': 'true' } }),
      enabled,
      false,
      /hostNetwork/,
    ],
    [
      'minimesh-system never',
      pod({ ns: 'minimesh-system' }),
      { name: 'minimesh-system', labels: enabled.labels },
      false,
      /never injected/,
    ],
    [
      'kube-system never',
      pod({ ns: 'kube-system', labels: { 'sidecar.minimesh.dev/inject': 'true' } }),
      undefined,
      false,
      /never injected/,
    ],
    ['already injected', inject(pod({})), enabled, false, /already injected/],
  ]
  for (const [name, p, ns, want, reason] of cases) {
    it(name, () => {
      const d = shouldInject(p, ns)
      expect(d.inject).toBe(want)
      expect(d.reason).toMatch(reason)
    })
  }
})
