import { ApiErrorCode } from '../errors.ts'
import { ExpressionError, parseExpression } from '../quota/expression.ts'
import { array, duration, type Infer, integer, object, optional, record, string } from '../schema/index.ts'
import { defineKind, type Resource } from './common.ts'

const expression = string({
  description: 'attribute expression; `|` separates fallbacks, the first present one wins',
  check(v, path, ctx) {
    try {
      parseExpression(v)
    } catch (err) {
      if (err instanceof ExpressionError)
        ctx.report(path, ApiErrorCode.Expression, `bad expression ${JSON.stringify(v)}: ${err.message}`)
      else throw err
    }
  },
})

const override = object({
  dimensions: record(string(), { description: 'values the request dimensions must all equal' }),
  maxAmount: integer({ min: 0 }),
  validDuration: optional(duration()),
})

export const quotaPolicySpec = object({
  hosts: optional(array(string(), { minItems: 1 })),
  maxAmount: integer({ min: 0 }),
  validDuration: optional(
    duration({ description: 'rolling window; 0 (or absent) makes an allocation quota' }),
  ),
  dimensions: optional(record(expression)),
  overrides: optional(array(override)),
})

export type QuotaPolicySpec = Infer<typeof quotaPolicySpec>
export type QuotaOverride = Infer<typeof override>
export type QuotaPolicy = Resource<QuotaPolicySpec, 'QuotaPolicy'>

export const QuotaPolicyKind = defineKind({
  group: 'policy.minimesh.dev',
  kind: 'QuotaPolicy',
  plural: 'quotapolicies',
  singular: 'quotapolicy',
  shortNames: ['quota'],
  categories: ['minimesh-io'],
  versions: ['v1alpha1'],
  spec: quotaPolicySpec,
})
