// Istio's PeerAuthentication (security.istio.io): whether a workload's sidecar accepts mutual TLS
// from other sidecars (PERMISSIVE: mTLS or plaintext on the same port), requires it (STRICT) or
// takes plaintext only (DISABLE). Mesh-wide in the root namespace, namespace-wide without a
// selector, per workload with one, and per workload port (the container port, not the Service's).
import { ApiErrorCode } from '../errors.ts'
import { type Infer, object, optional, record, string } from '../schema/index.ts'
import { defineKind, type Resource, SECURITY_ISTIO_IO } from './common.ts'

export const MTLS_MODES = ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'] as const
export type MtlsMode = (typeof MTLS_MODES)[number]

const mutualTls = object({
  mode: optional(
    string({
      enum: MTLS_MODES,
      description: 'UNSET inherits from the namespace (or mesh) policy; the default is PERMISSIVE',
    }),
  ),
})

const workloadSelector = object({
  matchLabels: optional(record(string(), { description: 'labels of the pods the policy applies to' })),
})

export const peerAuthenticationSpec = object(
  {
    selector: optional(workloadSelector),
    mtls: optional(mutualTls),
    portLevelMtls: optional(
      record(mutualTls, {
        key: /^([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$/,
        keyHint: 'a port number (1-65535) of the workload',
        description: 'mTLS mode per workload (container) port, not the Service port',
      }),
    ),
  },
  {
    check(spec, path, ctx) {
      const labels = spec.selector?.matchLabels ?? {}
      if (
        spec.portLevelMtls &&
        Object.keys(spec.portLevelMtls).length > 0 &&
        Object.keys(labels).length === 0
      )
        ctx.report(
          [...path, 'portLevelMtls'],
          ApiErrorCode.Required,
          'portLevelMtls needs a workload selector (selector.matchLabels with at least one label): port numbers mean something only for one workload',
        )
      if (spec.selector && Object.keys(labels).length === 0)
        ctx.report(
          [...path, 'selector', 'matchLabels'],
          ApiErrorCode.Required,
          'selector needs at least one label in matchLabels (leave selector out for a namespace-wide policy)',
        )
    },
  },
)

export type PeerAuthenticationSpec = Infer<typeof peerAuthenticationSpec>
export type PeerAuthentication = Resource<PeerAuthenticationSpec, 'PeerAuthentication'>

export const PeerAuthenticationKind = defineKind({
  ...SECURITY_ISTIO_IO,
  kind: 'PeerAuthentication',
  plural: 'peerauthentications',
  singular: 'peerauthentication',
  shortNames: ['pa'],
  spec: peerAuthenticationSpec,
})
