import type { Schema } from '../schema/index.ts'
import { AuthorizationPolicyKind } from './authorization-policy.ts'
import type { KindDefinition } from './common.ts'
import { DestinationRuleKind } from './destination-rule.ts'
import { GatewayKind } from './gateway.ts'
import { PeerAuthenticationKind } from './peer-authentication.ts'
import { QuotaPolicyKind } from './quota-policy.ts'
import { VirtualServiceKind } from './virtual-service.ts'

export * from './authorization-policy.ts'
export * from './common.ts'
export * from './destination-rule.ts'
export * from './gateway.ts'
export * from './peer-authentication.ts'
export * from './quota-policy.ts'
export * from './virtual-service.ts'

/** Every mesh resource kind minimesh understands. */
export const MESH_KINDS: readonly KindDefinition<Schema<unknown>>[] = [
  VirtualServiceKind,
  DestinationRuleKind,
  GatewayKind,
  QuotaPolicyKind,
  AuthorizationPolicyKind,
  PeerAuthenticationKind,
] as unknown as KindDefinition<Schema<unknown>>[]

/** The kind definition for an apiVersion/kind pair, accepting every served version (v1, v1beta1, v1alpha3). */
export function findKind(apiVersion: unknown, kind: unknown): KindDefinition<Schema<unknown>> | undefined {
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return undefined
  const [group, version] = apiVersion.split('/')
  return MESH_KINDS.find(
    (k) => k.kind === kind && k.group === group && version !== undefined && k.versions.includes(version),
  )
}

/**
 * True for an API group minimesh owns or answers for: the groups of its kinds, and every other
 * `*.istio.io` group (security.istio.io, telemetry.istio.io, …), so an Istio kind minimesh does
 * not implement is reported rather than silently skipped.
 */
export function isMeshGroup(apiVersion: unknown): boolean {
  if (typeof apiVersion !== 'string') return false
  const group = apiVersion.split('/')[0] ?? ''
  return MESH_KINDS.some((k) => k.group === group) || group.endsWith('.istio.io')
}

/** The definition of a kind by name in a mesh group, whatever the version (to explain a bad apiVersion). */
export function findKindAnyVersion(
  apiVersion: unknown,
  kind: unknown,
): KindDefinition<Schema<unknown>> | undefined {
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return undefined
  const group = apiVersion.split('/')[0]
  return MESH_KINDS.find((k) => k.kind === kind && k.group === group)
}
