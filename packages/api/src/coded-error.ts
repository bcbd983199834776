// The one coded-error base of minimesh. Every package declares its codes in a catalogue (its
// errors.ts) and throws a subclass of MeshError: a stable `code` callers match on, the HTTP `status`
// declared beside the code where an HTTP boundary answers with one, and the usual `cause`.
// Shaped after undici's error family (one base, a class a concern, a brand that survives two
// copies of the module) and fastify's createError (the status lives with the code).
// No imports: binaries load it before anything else at no cost (`@minimesh/api/errors`).

/** What a catalogue says about one code. */
export interface CodeInfo {
  /** The HTTP status an HTTP boundary answers with for this code; absent where no HTTP boundary shows it. */
  readonly status?: number
}

/** A package's codes: every one a key, `MESH_ERR_<AREA>_<WHAT>`. */
export type CodeCatalogue = Readonly<Record<`MESH_ERR_${string}`, CodeInfo>>

const CODE = /^MESH_ERR_[A-Z0-9]+(?:_[A-Z0-9]+)*$/

/** Declares a catalogue; a key that is not a well-formed code or a status outside 400–599 is refused. */
export function defineCodes<const C extends CodeCatalogue>(codes: C): C {
  for (const [code, info] of Object.entries(codes) as [string, CodeInfo][]) {
    if (!CODE.test(code))
      throw new TypeError(`error code ${JSON.stringify(code)} is not MESH_ERR_<AREA>_<WHAT>`)
    const { status } = info
    if (status !== undefined && !(Number.isInteger(status) && status >= 400 && status <= 599))
      throw new TypeError(`error code ${code}: status ${status} is not an HTTP error status (400–599)`)
  }
  return Object.freeze(codes)
}

const BRAND = Symbol.for('minimesh.error')

/**
 * The base of every minimesh error. A subclass names its catalogue in `static codes`; the status of
 * an instance comes from there, unless the thrower knows better (`options.status`: an answer it
 * passes on, such as an admission webhook's own status code). `instanceof MeshError` holds across
 * two copies of this module.
 */
export class MeshError<Code extends string = string> extends Error {
  /** The catalogue the subclass throws from (status per code). */
  static readonly codes: CodeCatalogue = {}

  readonly code: Code
  /** The HTTP status given by the thrower, else the one declared beside the code, if it has one. */
  readonly status: number | undefined

  constructor(code: Code, message: string, options?: { cause?: unknown; status?: number | undefined }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.status =
      options?.status ?? (new.target as typeof MeshError).codes[code as keyof CodeCatalogue]?.status
  }

  get [BRAND](): true {
    return true
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    // Only the base is matched by brand; a subclass (which inherits this method) keeps the ordinary
    // prototype check, so `this` is the class being asked about.
    // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass when inherited
    if (this !== MeshError) return Function.prototype[Symbol.hasInstance].call(this, value)
    return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true
  }
}

/** The HTTP status for an error: the one declared beside its code, else `fallback`. */
export function statusOf(err: unknown, fallback = 500): number {
  return (err instanceof MeshError && err.status) || fallback
}
