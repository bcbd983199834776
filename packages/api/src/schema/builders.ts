import { ApiErrorCode } from '../errors.ts'
import { DURATION_PATTERN, parseDuration } from './duration.ts'
import {
  type Context,
  type FieldPath,
  type Infer,
  type OpenApiSchema,
  type Schema,
  typeName,
} from './types.ts'

type Check<T> = (value: T, path: FieldPath, ctx: Context) => void

interface Common<T> {
  description?: string
  check?: Check<T>
}

function make<T>(
  kind: OpenApiSchema['type'],
  guard: (v: unknown) => boolean,
  base: Check<T> | undefined,
  opts: Common<T>,
  api: Omit<OpenApiSchema, 'type'>,
): Schema<T> {
  return {
    optional: false,
    description: opts.description,
    check(value, path, ctx) {
      if (!guard(value)) {
        ctx.report(path, ApiErrorCode.Type, `expected ${kind}, got ${typeName(value)}`)
        return false
      }
      base?.(value as T, path, ctx)
      opts.check?.(value as T, path, ctx)
      return true
    },
    openapi: () => ({ type: kind, ...(opts.description ? { description: opts.description } : {}), ...api }),
  }
}

export function string<const E extends string = string>(
  opts: Common<E> & { enum?: readonly E[]; pattern?: RegExp; patternHint?: string } = {},
): Schema<E> {
  const base: Check<string> = (v, path, ctx) => {
    if (opts.enum && !opts.enum.includes(v as E))
      ctx.report(path, ApiErrorCode.Enum, `must be one of ${opts.enum.join(', ')}, got ${JSON.stringify(v)}`)
    if (opts.pattern && !opts.pattern.test(v))
      ctx.report(
        path,
        ApiErrorCode.Pattern,
        `${JSON.stringify(v)} is not ${opts.patternHint ?? `matched by ${opts.pattern}`}`,
      )
  }
  return make<E>('string', (v) => typeof v === 'string', base, opts, {
    ...(opts.enum ? { enum: [...opts.enum] } : {}),
    ...(opts.pattern ? { pattern: opts.pattern.source } : {}),
  })
}

export function number(
  opts: Common<number> & { min?: number; max?: number; integer?: boolean } = {},
): Schema<number> {
  const base: Check<number> = (v, path, ctx) => {
    if (opts.integer && !Number.isInteger(v))
      ctx.report(path, ApiErrorCode.Type, `expected an integer, got ${v}`)
    if (opts.min !== undefined && v < opts.min)
      ctx.report(path, ApiErrorCode.Range, `must be at least ${opts.min}, got ${v}`)
    if (opts.max !== undefined && v > opts.max)
      ctx.report(path, ApiErrorCode.Range, `must be at most ${opts.max}, got ${v}`)
  }
  return make<number>(
    opts.integer ? 'integer' : 'number',
    (v) => typeof v === 'number' && Number.isFinite(v),
    base,
    opts,
    {
      ...(opts.min !== undefined ? { minimum: opts.min } : {}),
      ...(opts.max !== undefined ? { maximum: opts.max } : {}),
    },
  )
}

export const integer = (opts: Common<number> & { min?: number; max?: number } = {}) =>
  number({ ...opts, integer: true })

export function boolean(opts: Common<boolean> = {}): Schema<boolean> {
  return make<boolean>('boolean', (v) => typeof v === 'boolean', undefined, opts, {})
}

/** A duration string as Istio writes them: "7s", "0.5s", "100ms", "1m", "1h", "1h30m" (or "0"). */
export function duration(opts: Common<string> = {}): Schema<string> {
  const base: Check<string> = (v, path, ctx) => {
    if (parseDuration(v) === undefined)
      ctx.report(
        path,
        ApiErrorCode.Duration,
        `${JSON.stringify(v)} is not a duration (use e.g. "7s", "0.5s", "100ms", "1m", "1h")`,
      )
  }
  const inner = make<string>('string', (v) => typeof v === 'string', base, opts, {
    pattern: DURATION_PATTERN,
  })
  return {
    ...inner,
    check(value, path, ctx) {
      if (typeof value === 'number') {
        ctx.report(
          path,
          ApiErrorCode.Duration,
          `expected a duration string with a unit, got the number ${value} (write e.g. "${value}s")`,
        )
        return false
      }
      return inner.check(value, path, ctx)
    },
  }
}

/** A regular expression (RE2 syntax in Istio; checked here with JavaScript's engine). */
export function regex(opts: Common<string> = {}): Schema<string> {
  const base: Check<string> = (v, path, ctx) => {
    try {
      new RegExp(v)
    } catch (err) {
      ctx.report(
        path,
        ApiErrorCode.Regex,
        `invalid regular expression ${JSON.stringify(v)}: ${(err as Error).message}`,
      )
    }
  }
  return make<string>('string', (v) => typeof v === 'string', base, opts, {})
}

export function array<S extends Schema<unknown>>(
  item: S,
  opts: Common<Infer<S>[]> & {
    minItems?: number
    uniqueBy?: (v: Infer<S>) => string | undefined
    uniqueWhat?: string
  } = {},
): Schema<Infer<S>[]> {
  return {
    optional: false,
    description: opts.description,
    check(value, path, ctx) {
      if (!Array.isArray(value)) {
        ctx.report(path, ApiErrorCode.Type, `expected array, got ${typeName(value)}`)
        return false
      }
      if (opts.minItems !== undefined && value.length < opts.minItems)
        ctx.report(path, ApiErrorCode.Range, `must have at least ${opts.minItems} item(s)`)
      const seen = new Map<string, number>()
      let all = true
      value.forEach((v, i) => {
        const ok = item.check(v, [...path, i], ctx)
        if (!ok) all = false
        const key = ok && opts.uniqueBy ? opts.uniqueBy(v as Infer<S>) : undefined
        if (key === undefined) return
        const first = seen.get(key)
        if (first !== undefined)
          ctx.report(
            [...path, i],
            ApiErrorCode.Duplicate,
            `duplicate ${opts.uniqueWhat ?? 'entry'} ${JSON.stringify(key)} (first at [${first}])`,
          )
        else seen.set(key, i)
      })
      if (all) opts.check?.(value as Infer<S>[], path, ctx)
      return all
    },
    openapi: () => ({
      type: 'array',
      ...(opts.description ? { description: opts.description } : {}),
      items: item.openapi(),
      ...(opts.minItems !== undefined ? { minItems: opts.minItems } : {}),
    }),
  }
}

/** A map with string keys (labels, dimensions, headers). */
export function record<S extends Schema<unknown>>(
  value: S,
  opts: Common<Record<string, Infer<S>>> & { key?: RegExp; keyHint?: string } = {},
): Schema<Record<string, Infer<S>>> {
  return {
    optional: false,
    description: opts.description,
    check(v, path, ctx) {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        ctx.report(path, ApiErrorCode.Type, `expected object, got ${typeName(v)}`)
        return false
      }
      let all = true
      for (const [k, x] of Object.entries(v)) {
        if (opts.key && !opts.key.test(k))
          ctx.report(
            [...path, k],
            ApiErrorCode.Pattern,
            `key ${JSON.stringify(k)} is not ${opts.keyHint ?? `matched by ${opts.key}`}`,
          )
        if (!value.check(x, [...path, k], ctx)) all = false
      }
      if (all) opts.check?.(v as Record<string, Infer<S>>, path, ctx)
      return all
    },
    openapi: () => ({
      type: 'object',
      ...(opts.description ? { description: opts.description } : {}),
      additionalProperties: value.openapi(),
    }),
  }
}

/** Anything (kept as is): only for places Kubernetes itself owns, such as `status`. */
export function unknownValue(description?: string): Schema<unknown> {
  return {
    optional: false,
    description,
    check: () => true,
    openapi: () => ({
      type: 'object',
      'x-kubernetes-preserve-unknown-fields': true,
      ...(description ? { description } : {}),
    }),
  }
}

export function optional<T>(s: Schema<T>): Schema<T | undefined> & { optional: true } {
  return { ...s, optional: true } as Schema<T | undefined> & { optional: true }
}
