// Istio's PeerAuthentication resolution: the mTLS mode a workload's sidecar takes on each of its
// ports. A policy with a selector in the workload's namespace beats the namespace's policy
// without one, which beats the mesh policy (root namespace, no selector); the oldest policy wins
// at each level; UNSET (or no mtls) inherits from the level above; the default is PERMISSIVE.
// Port-level modes (the workload's container port) come only from a policy with a selector.
import type { MtlsMode, PeerAuthentication } from '@minimesh/api'
import { type PushContext, selects } from './context.ts'
import { ROOT_NAMESPACE } from './names.ts'

export type EffectiveMtlsMode = Exclude<MtlsMode, 'UNSET'>

export interface WorkloadMtls {
  /** The workload-level mode (the inbound passthrough chain's). */
  mode: EffectiveMtlsMode
  /** Modes of ports that a workload policy sets apart. */
  ports: ReadonlyMap<number, EffectiveMtlsMode>
}

const nsOf = (pa: PeerAuthentication) => pa.metadata.namespace ?? 'default'
const selectorOf = (pa: PeerAuthentication) => pa.spec.selector?.matchLabels ?? {}
const hasSelector = (pa: PeerAuthentication) => Object.keys(selectorOf(pa)).length > 0

function inherit(mode: MtlsMode | undefined, parent: EffectiveMtlsMode): EffectiveMtlsMode {
  return mode === undefined || mode === 'UNSET' ? parent : mode
}

/** The effective PeerAuthentication of a workload (namespace and pod labels), memoized per snapshot. */
export function workloadMtls(ctx: PushContext, ns: string, labels: Record<string, string>): WorkloadMtls {
  const key = `mtls/${ns}/${JSON.stringify(Object.entries(labels).sort())}`
  return ctx.memo(key, () => {
    const all = ctx.snapshot.peerAuthentications
    const mesh = all.find((pa) => nsOf(pa) === ROOT_NAMESPACE && !hasSelector(pa))
    const namespace = all.find((pa) => nsOf(pa) === ns && !hasSelector(pa))
    // Istio ignores selectors in the root namespace.
    const workload =
      ns === ROOT_NAMESPACE
        ? undefined
        : all.find((pa) => nsOf(pa) === ns && hasSelector(pa) && selects(selectorOf(pa), labels))
    const meshMode = inherit(mesh?.spec.mtls?.mode, 'PERMISSIVE')
    const nsMode = inherit(namespace?.spec.mtls?.mode, meshMode)
    const mode = inherit(workload?.spec.mtls?.mode, nsMode)
    const ports = new Map<number, EffectiveMtlsMode>()
    for (const [port, m] of Object.entries(workload?.spec.portLevelMtls ?? {}))
      ports.set(Number(port), inherit(m.mode, mode))
    return { mode, ports }
  })
}

/** The mode on one workload port. */
export function portMtls(w: WorkloadMtls, port: number): EffectiveMtlsMode {
  return w.ports.get(port) ?? w.mode
}
