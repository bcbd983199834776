import {
  array,
  boolean,
  type Infer,
  number,
  object,
  optional,
  record,
  regex,
  string,
} from '../schema/index.ts'

/** Matches a string: exactly one of exact, prefix, regex, present. */
export const stringMatcher = object(
  {
    exact: optional(string()),
    prefix: optional(string()),
    regex: optional(regex()),
    present: optional(boolean()),
    ignoreCase: optional(boolean()),
  },
  { oneOf: ['exact', 'prefix', 'regex', 'present'], oneOfRequired: true },
)
export type StringMatcher = Infer<typeof stringMatcher>

/** Header (or query parameter) matcher; `invert` for Istio's withoutHeaders. */
export const keyValueMatcher = object({ name: string(), match: stringMatcher, invert: optional(boolean()) })
export type KeyValueMatcher = Infer<typeof keyValueMatcher>

export const headerOps = object({
  set: optional(record(string())),
  add: optional(record(string())),
  remove: optional(array(string())),
})
export type HeaderOps = Infer<typeof headerOps>

/** A percentage in [0, 100]. */
export const percentage = () => number({ min: 0, max: 100 })

/** Non-negative milliseconds. */
export const millis = () => number({ min: 0 })
