/** The schema DSL's core types: one schema gives a TS type, a validator and an OpenAPI v3 schema. */

type PathSegment = string | number
export type FieldPath = readonly PathSegment[]

export interface Issue {
  path: FieldPath
  code: string
  message: string
  severity?: 'error' | 'warning'
}

/** Collects issues while a value is walked. */
export class Context {
  readonly issues: Issue[] = []
  report(path: FieldPath, code: string, message: string): void {
    this.issues.push({ path, code, message })
  }
}

/** A structural OpenAPI v3 schema, as a Kubernetes CRD wants it. */
export interface OpenApiSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean'
  description?: string
  properties?: Record<string, OpenApiSchema>
  required?: string[]
  items?: OpenApiSchema
  additionalProperties?: OpenApiSchema
  enum?: (string | number)[]
  pattern?: string
  format?: string
  minimum?: number
  maximum?: number
  minItems?: number
  maxProperties?: number
  'x-kubernetes-preserve-unknown-fields'?: boolean
  'x-kubernetes-int-or-string'?: boolean
}

export interface Schema<T> {
  /** Phantom field carrying the static type; never set at run time. */
  readonly __type?: T
  readonly optional: boolean
  readonly description?: string
  /**
   * Checks `value` at `path`, reporting every problem into `ctx`. Returns false when the value (or
   * anything inside it) does not have the declared type, so callers can skip checks that need it.
   */
  check(value: unknown, path: FieldPath, ctx: Context): boolean
  openapi(): OpenApiSchema
}

export type Infer<S> = S extends Schema<infer T> ? T : never

export function formatPath(path: FieldPath): string {
  let out = ''
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) out += out ? `.${seg}` : seg
    else out += `[${JSON.stringify(seg)}]`
  }
  return out
}

export function typeName(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  return typeof v
}
