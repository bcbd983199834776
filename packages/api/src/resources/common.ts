import { ApiErrorCode } from '../errors.ts'
import {
  array,
  type Infer,
  integer,
  number,
  type ObjectSchema,
  object,
  optional,
  record,
  regex,
  type Schema,
  string,
  unknownValue,
} from '../schema/index.ts'

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

export const metadata = object(
  {
    name: string({
      pattern: DNS1123_SUBDOMAIN,
      patternHint: 'a DNS-1123 subdomain (lower case, digits, "-" and ".")',
    }),
    namespace: optional(string({ pattern: DNS1123_LABEL, patternHint: 'a DNS-1123 label' })),
    labels: optional(record(string())),
    annotations: optional(record(string())),
  },
  {
    passthrough: [
      'uid',
      'resourceVersion',
      'generation',
      'creationTimestamp',
      'deletionTimestamp',
      'deletionGracePeriodSeconds',
      'managedFields',
      'ownerReferences',
      'finalizers',
      'generateName',
      'selfLink',
    ],
  },
)
export type ObjectMeta = Infer<typeof metadata>

/** Istio's StringMatch: exactly one of exact, prefix, regex. */
export const stringMatch = object(
  { exact: optional(string()), prefix: optional(string()), regex: optional(regex()) },
  { oneOf: ['exact', 'prefix', 'regex'], oneOfRequired: true },
)
export type StringMatch = Infer<typeof stringMatch>

/**
 * A header match: a StringMatch, or `{}` for "the header is present" (Istio's meaning of an empty
 * match on a header).
 */
export const headerMatch = object(
  { exact: optional(string()), prefix: optional(string()), regex: optional(regex()) },
  { oneOf: ['exact', 'prefix', 'regex'] },
)
export type HeaderMatch = Infer<typeof headerMatch>

export const percent = object({ value: number({ min: 0, max: 100, description: 'percentage in [0, 100]' }) })

export const portSelector = object({ number: integer({ min: 1, max: 65535 }) })

export const headerOperations = object({
  set: optional(record(string())),
  add: optional(record(string())),
  remove: optional(array(string())),
})
export type HeaderOperations = Infer<typeof headerOperations>

export const headers = object({ request: optional(headerOperations), response: optional(headerOperations) })

export const destination = object({
  host: string({ pattern: /^[A-Za-z0-9*]([-A-Za-z0-9.*]*[A-Za-z0-9])?$/, patternHint: 'a host name' }),
  subset: optional(string()),
  port: optional(portSelector),
})
export type Destination = Infer<typeof destination>

/** The definition of one resource kind: its API group, names, and the schema of its spec. */
export interface KindDefinition<S extends Schema<unknown>> {
  group: string
  kind: string
  plural: string
  singular: string
  shortNames: string[]
  categories: string[]
  /** Versions served; the first is the storage version. */
  versions: string[]
  spec: S
  /** The whole object's schema (apiVersion, kind, metadata, spec, status). */
  schema: ObjectSchema<{
    apiVersion: Schema<string>
    kind: Schema<string>
    metadata: typeof metadata
    spec: S
    status: Schema<unknown> & { optional: true }
  }>
}

export function defineKind<S extends Schema<unknown>>(
  def: Omit<KindDefinition<S>, 'schema'>,
): KindDefinition<S> {
  const apiVersions = def.versions.map((v) => `${def.group}/${v}`)
  return {
    ...def,
    schema: object({
      apiVersion: string({ enum: apiVersions }),
      kind: string({ enum: [def.kind] }),
      metadata,
      spec: def.spec,
      status: optional(unknownValue('Status written by the cluster; minimesh does not read it.')),
    }),
  }
}

/** An API group's part of a kind definition: the group, the versions served and kubectl's categories. */
export type ApiGroup = Pick<KindDefinition<Schema<unknown>>, 'group' | 'versions' | 'categories'>

/** Istio's networking.istio.io: VirtualService, DestinationRule, Gateway. */
export const NETWORKING_ISTIO_IO: ApiGroup = {
  group: 'networking.istio.io',
  categories: ['minimesh-io', 'networking-istio-io'],
  versions: ['v1', 'v1beta1', 'v1alpha3'],
}

/** Istio's security.istio.io: AuthorizationPolicy, PeerAuthentication. */
export const SECURITY_ISTIO_IO: ApiGroup = {
  group: 'security.istio.io',
  categories: ['minimesh-io', 'security-istio-io'],
  versions: ['v1', 'v1beta1'],
}

export interface Resource<Spec, K extends string = string> {
  apiVersion: string
  kind: K
  metadata: ObjectMeta
  spec: Spec
  status?: unknown
}

/**
 * Reports all-zero weights across several destinations (negative ones are caught by the schema).
 * As in Istio, an unset weight counts as 0 when there is more than one destination, so two
 * destinations without weights are an error too; a single destination takes all traffic.
 */
export function checkWeights(
  routes: readonly { weight?: number }[],
  path: readonly (string | number)[],
  report: (path: readonly (string | number)[], code: string, message: string) => void,
): void {
  if (routes.length > 1 && routes.every((r) => (r.weight ?? 0) === 0))
    report(
      path,
      ApiErrorCode.Weight,
      'weights are all zero (an unset weight is 0): at least one destination must have a positive weight',
    )
}
