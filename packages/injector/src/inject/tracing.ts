// The sidecar's tracing settings: the mesh's (InjectConfig.tracing, from meshd's --trace-* flags)
// with the pod's `tracing.minimesh.dev/sampling` annotation over the sampling percentage (Istio's
// `proxy.istio.io/config: {tracing: {sampling: N}}`), as the env mesh-proxy reads.

import type { EnvVar } from '@minimesh/api/kube'
import type { InjectConfig } from '../config.ts'
import { InjectError } from '../errors.ts'
import { TRACING_SAMPLING_ANNOTATION } from '../names.ts'

/** A percentage 0–100 (decimals allowed, as Istio's 0.01 steps); throws for anything else. */
function percentage(key: string, value: string): string {
  const t = value.trim()
  const n = Number(t)
  if (t === '' || !Number.isFinite(n) || n < 0 || n > 100)
    throw new InjectError(
      'MESH_ERR_INJECT_BAD_ANNOTATION',
      `annotation ${key}: "${value}" is not a percentage 0–100`,
    )
  return String(n)
}

/** MESH_TRACE_* env for the sidecar; none when the mesh has no collector and the pod says nothing. */
export function tracingEnv(config: InjectConfig, annotations: Record<string, string>): EnvVar[] {
  const t = config.tracing
  const own = annotations[TRACING_SAMPLING_ANNOTATION]
  const sampling = own !== undefined ? percentage(TRACING_SAMPLING_ANNOTATION, own) : t?.sampling?.toString()
  const env: EnvVar[] = []
  if (t?.collector) env.push({ name: 'MESH_TRACE_COLLECTOR', value: t.collector })
  if (t?.format) env.push({ name: 'MESH_TRACE_FORMAT', value: t.format })
  if (sampling !== undefined) env.push({ name: 'MESH_TRACE_SAMPLING', value: sampling })
  return env
}
