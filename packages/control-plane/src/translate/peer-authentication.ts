// Istio's PeerAuthentication resolution (@minimesh/api workloadMtls, which `meshctl describe` shows
// too): the mTLS mode a workload's sidecar takes on each of its ports, memoized per snapshot.
import { type EffectiveMtlsMode, workloadMtls as resolveWorkloadMtls } from '@minimesh/api'
import type { PushContext } from './context.ts'

export type { EffectiveMtlsMode }

export interface WorkloadMtls {
  /** The workload-level mode (the inbound passthrough chain's). */
  mode: EffectiveMtlsMode
  /** Modes of ports that a workload policy sets apart. */
  ports: ReadonlyMap<number, EffectiveMtlsMode>
}

/** The effective PeerAuthentication of a workload (namespace and pod labels), memoized per snapshot. */
export function workloadMtls(ctx: PushContext, ns: string, labels: Record<string, string>): WorkloadMtls {
  const key = `mtls/${ns}/${JSON.stringify(Object.entries(labels).sort())}`
  return ctx.memo(key, () => {
    const { mode, ports } = resolveWorkloadMtls(ctx.snapshot.peerAuthentications, ns, labels)
    return { mode, ports }
  })
}

/** The mode on one workload port. */
export function portMtls(w: WorkloadMtls, port: number): EffectiveMtlsMode {
  return w.ports.get(port) ?? w.mode
}
