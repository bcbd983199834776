import { ApiErrorCode } from '../errors.ts'
import {
  array,
  boolean,
  duration,
  type Infer,
  integer,
  object,
  optional,
  record,
  string,
} from '../schema/index.ts'
import {
  checkWeights,
  defineKind,
  destination,
  headerMatch,
  headerOperations,
  headers,
  NETWORKING_ISTIO_IO,
  percent,
  type Resource,
  stringMatch,
} from './common.ts'

const matchRequest = object(
  {
    name: optional(string()),
    uri: optional(stringMatch),
    method: optional(stringMatch),
    authority: optional(stringMatch),
    headers: optional(record(headerMatch)),
    withoutHeaders: optional(record(headerMatch)),
    queryParams: optional(record(stringMatch)),
    port: optional(integer({ min: 1, max: 65535 })),
    sourceLabels: optional(record(string())),
    gateways: optional(array(string())),
    sourceNamespace: optional(string()),
    ignoreUriCase: optional(boolean()),
  },
  { unimplemented: ['scheme', 'statPrefix'] },
)

const routeDestination = object({
  destination,
  weight: optional(integer({ min: 0, description: 'relative weight; need not add up to 100' })),
  headers: optional(headers),
})

const retries = object(
  {
    attempts: integer({ min: 0 }),
    perTryTimeout: optional(duration()),
    retryOn: optional(
      string({
        pattern:
          /^(5xx|gateway-error|connect-failure|refused-stream|reset|retriable-4xx|retriable-status-codes|cancelled|deadline-exceeded|internal|resource-exhausted|unavailable|[1-5][0-9][0-9])(,(5xx|gateway-error|connect-failure|refused-stream|reset|retriable-4xx|retriable-status-codes|cancelled|deadline-exceeded|internal|resource-exhausted|unavailable|[1-5][0-9][0-9]))*$/,
        patternHint:
          'a comma-separated list of 5xx, gateway-error, connect-failure, refused-stream, reset, retriable-4xx, status codes, and the gRPC conditions cancelled, deadline-exceeded, internal, resource-exhausted, unavailable',
      }),
    ),
  },
  { unimplemented: ['retryRemoteLocalities', 'retryIgnorePreviousHosts', 'backoff'] },
)

const fault = object({
  delay: optional(
    object(
      {
        fixedDelay: duration(),
        percentage: optional(percent),
        percent: optional(integer({ min: 0, max: 100 })),
      },
      { oneOf: ['percentage', 'percent'], unimplemented: ['exponentialDelay'] },
    ),
  ),
  abort: optional(
    object(
      { httpStatus: integer({ min: 200, max: 599 }), percentage: optional(percent) },
      { unimplemented: ['grpcStatus', 'http2Error'] },
    ),
  ),
})

const httpRoute = object(
  {
    name: optional(string()),
    match: optional(array(matchRequest)),
    route: optional(array(routeDestination, { minItems: 1 })),
    redirect: optional(
      object(
        {
          uri: optional(string()),
          authority: optional(string()),
          port: optional(integer({ min: 1, max: 65535 })),
          scheme: optional(string({ enum: ['http', 'https'] })),
          redirectCode: optional(integer({ min: 300, max: 399 })),
        },
        { unimplemented: ['derivePort'] },
      ),
    ),
    directResponse: optional(
      object({
        status: integer({ min: 200, max: 599 }),
        body: optional(object({ string: optional(string()) }, { unimplemented: ['bytes'] })),
      }),
    ),
    rewrite: optional(
      object(
        { uri: optional(string()), authority: optional(string()) },
        { unimplemented: ['uriRegexRewrite'] },
      ),
    ),
    timeout: optional(duration()),
    retries: optional(retries),
    fault: optional(fault),
    mirror: optional(destination),
    mirrorPercentage: optional(percent),
    headers: optional(headers),
  },
  {
    unimplemented: ['delegate', 'corsPolicy', 'mirrors', 'mirrorPercent'],
    check(r, path, ctx) {
      const actions = (['route', 'redirect', 'directResponse'] as const).filter((k) => r[k] !== undefined)
      if (actions.length === 0)
        ctx.report(path, ApiErrorCode.OneOf, 'one of route, redirect, directResponse must be set')
      if (actions.length > 1)
        ctx.report(
          path,
          ApiErrorCode.OneOf,
          `only one of route, redirect, directResponse may be set, got ${actions.join(' and ')}`,
        )
      if (r.route) checkWeights(r.route, [...path, 'route'], (p, c, m) => ctx.report(p, c, m))
    },
  },
)

export const virtualServiceSpec = object(
  {
    hosts: optional(array(string(), { minItems: 1 })),
    gateways: optional(array(string())),
    http: optional(array(httpRoute)),
    exportTo: optional(array(string({ enum: ['*', '.'] }))),
  },
  {
    unimplemented: ['tcp', 'tls'],
    check(spec, path, ctx) {
      // Istio needs hosts unless the VirtualService is a delegate, which minimesh does not implement.
      if (spec.hosts === undefined)
        ctx.report([...path, 'hosts'], ApiErrorCode.Required, 'field "hosts" is required')
      if (spec.http === undefined || spec.http.length === 0)
        ctx.report([...path, 'http'], ApiErrorCode.Required, 'at least one http route is required')
    },
  },
)

export type VirtualServiceSpec = Infer<typeof virtualServiceSpec>
export type HTTPRoute = Infer<typeof httpRoute>
export type HTTPMatchRequest = Infer<typeof matchRequest>
export type HTTPRouteDestination = Infer<typeof routeDestination>
export type HTTPRetry = Infer<typeof retries>
export type HTTPFaultInjection = Infer<typeof fault>
export type VirtualService = Resource<VirtualServiceSpec, 'VirtualService'>
export { headerOperations }

export const VirtualServiceKind = defineKind({
  ...NETWORKING_ISTIO_IO,
  kind: 'VirtualService',
  plural: 'virtualservices',
  singular: 'virtualservice',
  shortNames: ['vs'],
  spec: virtualServiceSpec,
})
