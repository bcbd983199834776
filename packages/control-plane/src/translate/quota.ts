import { durationMs, type QuotaPolicy, type QuotaRule } from '@minimesh/api'
import { namespacedName } from './names.ts'

/** A QuotaPolicy as the proxy applies it: durations in ms; an override without a duration keeps the policy's. */
export function quotaRule(qp: QuotaPolicy): QuotaRule {
  const window = qp.spec.validDuration !== undefined ? durationMs(qp.spec.validDuration) : 0
  return {
    name: namespacedName(qp.metadata),
    maxAmount: qp.spec.maxAmount,
    validDurationMs: window,
    dimensions: qp.spec.dimensions ?? {},
    ...(qp.spec.overrides?.length
      ? {
          overrides: qp.spec.overrides.map((o) => ({
            dimensions: o.dimensions,
            maxAmount: o.maxAmount,
            validDurationMs: o.validDuration !== undefined ? durationMs(o.validDuration) : window,
          })),
        }
      : {}),
  }
}
