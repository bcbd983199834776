// Which security policies apply to a workload (a namespace and pod labels), by Istio's rules. The
// translator compiles what these return into the sidecar's inbound configuration; `meshctl
// describe` shows the same answer to a user. Policies are taken in the order given: callers pass
// them oldest first (creationTimestamp), as Istio resolves ties.
import { MESH_ROOT_NAMESPACE } from './analyze/authorization.ts'
import type { AuthorizationPolicy } from './resources/authorization-policy.ts'
import type { MtlsMode, PeerAuthentication } from './resources/peer-authentication.ts'

export type EffectiveMtlsMode = Exclude<MtlsMode, 'UNSET'>

type PolicyLike<S> = { metadata: { name: string; namespace?: string }; spec: S }
type PeerAuthenticationLike = PolicyLike<
  Pick<PeerAuthentication['spec'], 'selector' | 'mtls' | 'portLevelMtls'>
>
type AuthorizationPolicyLike = PolicyLike<Pick<AuthorizationPolicy['spec'], 'selector'>>

export interface WorkloadMtls<P extends PeerAuthenticationLike = PeerAuthenticationLike> {
  /** The workload-level mode. */
  mode: EffectiveMtlsMode
  /** Modes of workload (container) ports that a workload policy sets apart. */
  ports: ReadonlyMap<number, EffectiveMtlsMode>
  /** The policy chosen at each level (absent: none there). */
  from: { mesh?: P; namespace?: P; workload?: P }
}

const nsOf = (p: { metadata: { namespace?: string } }) => p.metadata.namespace ?? 'default'

/** True when every label of the selector is on the workload (an empty or absent selector: every workload). */
export function selectsLabels(
  selector: Record<string, string> | undefined,
  labels: Record<string, string>,
): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v)
}

function inherit(mode: MtlsMode | undefined, parent: EffectiveMtlsMode): EffectiveMtlsMode {
  return mode === undefined || mode === 'UNSET' ? parent : mode
}

/**
 * The mTLS a workload's sidecar takes (Istio's PeerAuthentication resolution): a policy with a
 * selector in the workload's namespace beats the namespace's policy without one, which beats the
 * mesh policy (root namespace, no selector); the first (oldest) wins at each level; UNSET or no
 * mtls inherits from the level above; the default is PERMISSIVE. Selectors in the root namespace
 * are ignored, as Istio does. Port-level modes come only from the workload policy.
 */
export function workloadMtls<P extends PeerAuthenticationLike>(
  policies: readonly P[],
  namespace: string,
  labels: Record<string, string>,
): WorkloadMtls<P> {
  const hasSelector = (p: P) => Object.keys(p.spec.selector?.matchLabels ?? {}).length > 0
  const mesh = policies.find((p) => nsOf(p) === MESH_ROOT_NAMESPACE && !hasSelector(p))
  const ns = policies.find((p) => nsOf(p) === namespace && !hasSelector(p))
  const workload =
    namespace === MESH_ROOT_NAMESPACE
      ? undefined
      : policies.find(
          (p) =>
            nsOf(p) === namespace && hasSelector(p) && selectsLabels(p.spec.selector?.matchLabels, labels),
        )
  const meshMode = inherit(mesh?.spec.mtls?.mode, 'PERMISSIVE')
  const nsMode = inherit(ns?.spec.mtls?.mode, meshMode)
  const mode = inherit(workload?.spec.mtls?.mode, nsMode)
  const ports = new Map<number, EffectiveMtlsMode>()
  for (const [port, m] of Object.entries(workload?.spec.portLevelMtls ?? {}))
    ports.set(Number(port), inherit(m.mode, mode))
  return {
    mode,
    ports,
    from: {
      ...(mesh ? { mesh } : {}),
      ...(ns ? { namespace: ns } : {}),
      ...(workload ? { workload } : {}),
    },
  }
}

/**
 * The AuthorizationPolicies that apply to a workload: those of the root namespace (mesh-wide) and
 * of its own namespace whose selector (absent: every workload) matches its labels, in the order given.
 */
export function authorizationPoliciesFor<A extends AuthorizationPolicyLike>(
  policies: readonly A[],
  namespace: string,
  labels: Record<string, string>,
): A[] {
  return policies.filter(
    (p) =>
      (nsOf(p) === MESH_ROOT_NAMESPACE || nsOf(p) === namespace) &&
      selectsLabels(p.spec.selector?.matchLabels, labels),
  )
}
