import { ApiErrorCode } from '../errors.ts'
import { Context, type FieldPath, type Infer, type OpenApiSchema, type Schema, typeName } from './types.ts'

type Props = Record<string, Schema<unknown>>
type OptionalKeys<P extends Props> = { [K in keyof P]: P[K]['optional'] extends true ? K : never }[keyof P]
type RequiredKeys<P extends Props> = Exclude<keyof P, OptionalKeys<P>>
type Simplify<T> = { [K in keyof T]: T[K] } & {}
export type ObjectType<P extends Props> = Simplify<
  { [K in RequiredKeys<P>]: Infer<P[K]> } & { [K in OptionalKeys<P>]?: Exclude<Infer<P[K]>, undefined> }
>

export interface ObjectOptions<T> {
  description?: string
  /**
   * Fields Istio defines that minimesh does not implement: using one is an error that says so
   * (MESH_ERR_API_UNIMPLEMENTED), not a silent no-op.
   */
  unimplemented?: readonly string[]
  /** At most one of these fields may be set (and exactly one if `oneOfRequired`). */
  oneOf?: readonly string[]
  oneOfRequired?: boolean
  /** Fields allowed and kept without checks (Kubernetes-owned metadata). */
  passthrough?: readonly string[]
  check?: (value: T, path: FieldPath, ctx: Context) => void
}

export interface ObjectSchema<P extends Props> extends Schema<ObjectType<P>> {
  readonly props: P
  /** Istio fields minimesh does not implement (an error when set). */
  readonly unimplemented: readonly string[]
}

/**
 * In the CRD, an unimplemented field is kept (not pruned by the API server) so that minimesh's
 * validation sees it and can say it is not implemented, instead of it vanishing silently.
 */
export const UNIMPLEMENTED_DESCRIPTION = 'Not implemented by minimesh: setting it is a validation error.'
const UNIMPLEMENTED_OPENAPI: OpenApiSchema = {
  description: UNIMPLEMENTED_DESCRIPTION,
  'x-kubernetes-preserve-unknown-fields': true,
}

export function object<P extends Props>(props: P, opts: ObjectOptions<ObjectType<P>> = {}): ObjectSchema<P> {
  const unimplemented = new Set(opts.unimplemented ?? [])
  const passthrough = new Set(opts.passthrough ?? [])
  return {
    props,
    unimplemented: [...unimplemented],
    optional: false,
    description: opts.description,
    check(value, path, ctx) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        ctx.report(path, ApiErrorCode.Type, `expected object, got ${typeName(value)}`)
        return false
      }
      const v = value as Record<string, unknown>
      let ok = true
      let nulls = false
      for (const [key, x] of Object.entries(v)) {
        const s = props[key]
        if (s) {
          // YAML `field: ~` on an optional field means "absent", as the Kubernetes API server treats it.
          if (x === null && s.optional) nulls = true
          else if (!s.check(x, [...path, key], ctx)) ok = false
        } else if (unimplemented.has(key)) {
          ctx.report(
            [...path, key],
            ApiErrorCode.Unimplemented,
            `field "${key}" is not implemented by minimesh`,
          )
        } else if (!passthrough.has(key)) {
          ctx.report([...path, key], ApiErrorCode.UnknownField, `unknown field "${key}"`)
        }
      }
      for (const [key, s] of Object.entries(props)) {
        if (!s.optional && v[key] === undefined) {
          ctx.report([...path, key], ApiErrorCode.Required, `field "${key}" is required`)
          ok = false
        }
      }
      if (opts.oneOf) {
        const set = opts.oneOf.filter((k) => v[k] !== undefined && v[k] !== null)
        if (set.length > 1)
          ctx.report(
            path,
            ApiErrorCode.OneOf,
            `only one of ${opts.oneOf.join(', ')} may be set, got ${set.join(' and ')}`,
          )
        else if (set.length === 0 && opts.oneOfRequired)
          ctx.report(path, ApiErrorCode.OneOf, `one of ${opts.oneOf.join(', ')} must be set`)
      }
      // Cross-field checks see a value of the declared type only: after a type mismatch anywhere
      // below (already reported) they are skipped, and `field: ~` reads as an absent field.
      if (ok && opts.check) {
        const typed = nulls ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null)) : v
        opts.check(typed as ObjectType<P>, path, ctx)
      }
      return ok
    },
    openapi(): OpenApiSchema {
      const properties: Record<string, OpenApiSchema> = {}
      const required: string[] = []
      for (const [key, s] of Object.entries(props)) {
        properties[key] = s.openapi()
        if (!s.optional) required.push(key)
      }
      for (const key of unimplemented) properties[key] ??= UNIMPLEMENTED_OPENAPI
      return {
        type: 'object',
        ...(opts.description ? { description: opts.description } : {}),
        properties,
        ...(required.length ? { required } : {}),
      }
    },
  }
}

/** Runs a schema over a value and returns every issue. */
export function checkValue<T>(schema: Schema<T>, value: unknown, path: FieldPath = []): Context['issues'] {
  const ctx = new Context()
  schema.check(value, path, ctx)
  return ctx.issues
}
