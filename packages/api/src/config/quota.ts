import { array, type Infer, integer, number, object, optional, record, string } from '../schema/index.ts'

/**
 * A QuotaPolicy as the proxy applies it: dimension expressions (parsed by the proxy with
 * `parseExpression`), then overrides tried in order. `validDurationMs` 0 = allocation quota.
 */
export const quotaRule = object({
  /** `<namespace>/<QuotaPolicy name>`; also the quota name sent to the quota service. */
  name: string(),
  maxAmount: integer({ min: 0 }),
  validDurationMs: number({ min: 0 }),
  dimensions: record(string()),
  overrides: optional(
    array(
      object({
        dimensions: record(string()),
        maxAmount: integer({ min: 0 }),
        validDurationMs: number({ min: 0 }),
      }),
    ),
  ),
})
export type QuotaRule = Infer<typeof quotaRule>
