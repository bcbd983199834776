import {
  type AttributeLookup,
  evaluateExpression,
  parseExpression,
  type QuotaRule,
  type Term,
} from '@minimesh/api/config'
import type { QuotaClient } from './client.ts'

/** What the quota check decided for one request. */
export type QuotaDecision =
  | { allowed: true }
  | { allowed: false; status: 429; body: string; flag: 'RL'; quota: string }

export interface QuotaCheckerOptions {
  client: QuotaClient
  /** When the quota service cannot answer: admit (default, as Envoy does) or refuse. */
  failOpen?: boolean
  onDecision?(quota: string, allowed: boolean): void
  /** The quota service failed to answer; `admitted` says what was done about it. */
  onServiceError?(quota: string, admitted: boolean, err: unknown): void
}

interface CompiledRule {
  rule: QuotaRule
  dimensions: [name: string, terms: Term[]][]
}

/**
 * Applies QuotaPolicies to a request: evaluates each policy's dimensions, picks the first override
 * whose dimensions all match (else the policy's own limit), and asks the quota service for one unit.
 * Any refusal refuses the request with 429 and response flag RL.
 */
export class QuotaChecker {
  private readonly opts: QuotaCheckerOptions
  private readonly compiled = new WeakMap<QuotaRule, CompiledRule>()

  constructor(opts: QuotaCheckerOptions) {
    this.opts = opts
  }

  private compile(rule: QuotaRule): CompiledRule {
    let c = this.compiled.get(rule)
    if (!c) {
      c = { rule, dimensions: Object.entries(rule.dimensions).map(([k, expr]) => [k, parseExpression(expr)]) }
      this.compiled.set(rule, c)
    }
    return c
  }

  async check(
    rules: readonly QuotaRule[],
    lookup: AttributeLookup,
    dedupId?: string,
  ): Promise<QuotaDecision> {
    for (const rule of rules) {
      const c = this.compile(rule)
      const dimensions: Record<string, string> = {}
      for (const [name, terms] of c.dimensions) dimensions[name] = evaluateExpression(terms, lookup) ?? ''
      const limit = selectLimit(rule, dimensions)
      let granted: number
      try {
        granted = await this.opts.client.allocate({
          quota: rule.name,
          dimensions,
          amount: 1,
          maxAmount: limit.maxAmount,
          validDurationMs: limit.validDurationMs,
          dedupId: dedupId ? `${rule.name}/${dedupId}` : undefined,
        })
      } catch (err) {
        const admitted = this.opts.failOpen !== false
        this.opts.onServiceError?.(rule.name, admitted, err)
        if (admitted) continue
        return refuse(rule.name)
      }
      this.opts.onDecision?.(rule.name, granted > 0)
      if (granted <= 0) return refuse(rule.name)
    }
    return { allowed: true }
  }
}

function refuse(quota: string): QuotaDecision {
  return {
    allowed: false,
    status: 429,
    body: `RESOURCE_EXHAUSTED: quota exceeded for ${quota}`,
    flag: 'RL',
    quota,
  }
}

/** The first override whose dimensions all equal the request's wins; else the policy's limit. */
export function selectLimit(
  rule: QuotaRule,
  dimensions: Readonly<Record<string, string>>,
): { maxAmount: number; validDurationMs: number } {
  for (const o of rule.overrides ?? []) {
    if (Object.entries(o.dimensions).every(([k, v]) => dimensions[k] === v)) return o
  }
  return rule
}
