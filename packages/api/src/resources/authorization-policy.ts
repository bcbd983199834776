// Istio's AuthorizationPolicy (security.istio.io/v1, v1beta1): ALLOW, DENY and AUDIT policies of a
// workload, with Istio's value matching (`abc*` prefix, `*abc` suffix, `*` presence). CUSTOM
// (external authorization) and request authentication (JWT: requestPrincipals, request.auth.*)
// are not implemented: using them is a validation error, never a rule that silently matches.
import { isIP } from 'node:net'
import { ApiErrorCode } from '../errors.ts'
import {
  array,
  type Context,
  type FieldPath,
  type Infer,
  object,
  optional,
  record,
  type Schema,
  string,
  UNIMPLEMENTED_DESCRIPTION,
  unknownValue,
} from '../schema/index.ts'
import { defineKind, type Resource, SECURITY_ISTIO_IO } from './common.ts'

/** Trust domain of every workload identity (`<td>/ns/<ns>/sa/<sa>`). */
export const TRUST_DOMAIN = 'cluster.local'

const JWT_HINT =
  'needs RequestAuthentication (JWT), which minimesh does not implement yet: remove it, or use principals (mTLS identities)'

/** Reports a value whose `*` is neither its first nor its last character (Istio matches only prefix, suffix or presence). */
function checkWildcard(v: string, path: FieldPath, ctx: Context): boolean {
  const star = v.indexOf('*', 1)
  if (star !== -1 && star !== v.length - 1) {
    ctx.report(
      path,
      ApiErrorCode.Pattern,
      `${JSON.stringify(v)}: "*" may only be the first or last character (prefix "abc*", suffix "*abc", or "*" for any non-empty value)`,
    )
    return false
  }
  if (v.length > 1 && v.startsWith('*') && v.endsWith('*')) {
    ctx.report(path, ApiErrorCode.Pattern, `${JSON.stringify(v)}: use "*" at one end only`)
    return false
  }
  return true
}

function matchValue(what = 'value') {
  return string({
    description: `${what}: exact, "abc*" (prefix), "*abc" (suffix) or "*" (present, non-empty)`,
    check(v, path, ctx) {
      if (v === '') ctx.report(path, ApiErrorCode.Pattern, 'must not be empty')
      else checkWildcard(v, path, ctx)
    },
  })
}

/** A principal as policies write it: `cluster.local/ns/<namespace>/sa/<serviceaccount>`, or a `*` form. */
const principal = string({
  description:
    'peer identity `cluster.local/ns/<namespace>/sa/<serviceaccount>` (from its mTLS certificate); "abc*", "*abc" or "*" match by prefix, suffix or presence',
  check(v, path, ctx) {
    if (v.startsWith('spiffe://')) {
      ctx.report(
        path,
        ApiErrorCode.Pattern,
        `${JSON.stringify(v)}: a principal is written without "spiffe://", e.g. "${v.slice(9)}"`,
      )
      return
    }
    if (v === '' || !checkWildcard(v, path, ctx) || v.includes('*')) return
    if (!/^[^/]+\/ns\/[^/]+\/sa\/[^/]+$/.test(v))
      ctx.report(
        path,
        ApiErrorCode.Pattern,
        `${JSON.stringify(v)} is not a principal: use "${TRUST_DOMAIN}/ns/<namespace>/sa/<serviceaccount>" (or a "*" prefix/suffix form)`,
      )
  },
})

/** True for an IPv4/IPv6 address or a CIDR block of one. */
export function isCidr(v: string): boolean {
  const slash = v.indexOf('/')
  const addr = slash === -1 ? v : v.slice(0, slash)
  const family = isIP(addr)
  if (family === 0) return false
  if (slash === -1) return true
  const bits = v.slice(slash + 1)
  if (!/^\d{1,3}$/.test(bits)) return false
  return Number(bits) <= (family === 4 ? 32 : 128)
}

function checkCidr(v: string, path: FieldPath, ctx: Context): void {
  if (!isCidr(v))
    ctx.report(
      path,
      ApiErrorCode.Cidr,
      `${JSON.stringify(v)} is not an IP address or CIDR block (e.g. "10.1.0.0/16")`,
    )
}

const cidr = string({ description: 'IP address or CIDR block, e.g. "10.1.0.0/16"', check: checkCidr })

function checkPort(v: string, path: FieldPath, ctx: Context): void {
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535)
    ctx.report(path, ApiErrorCode.Range, `${JSON.stringify(v)} is not a port number (1-65535)`)
}

const port = string({ description: 'port number, as a string (e.g. "8080")', check: checkPort })

const path_ = string({
  description: 'request path without query: exact, "/abc*" (prefix), "*/abc" (suffix) or "*"',
  check(v, path, ctx) {
    if (v === '') ctx.report(path, ApiErrorCode.Pattern, 'must not be empty')
    else if (/\{\*{1,2}\}/.test(v))
      ctx.report(
        path,
        ApiErrorCode.Unimplemented,
        `${JSON.stringify(v)}: path templates ({*}, {**}) are not implemented by minimesh`,
      )
    else checkWildcard(v, path, ctx)
  },
})

const jwtOnly = (description: string) =>
  optional(
    array(string(), {
      description,
      check(_v, path, ctx) {
        ctx.report(path, ApiErrorCode.Unimplemented, `${String(path[path.length - 1])} ${JWT_HINT}`)
      },
    }),
  )

const list = <T>(item: Schema<T>, description?: string) =>
  optional(array(item, { minItems: 1, ...(description ? { description } : {}) }))

const source = object(
  {
    principals: list(principal, 'peer identities (mTLS); any one matches'),
    notPrincipals: list(principal),
    namespaces: list(matchValue('namespace of the peer identity (mTLS)')),
    notNamespaces: list(matchValue('namespace')),
    ipBlocks: list(cidr, 'the connection peer address (source.ip)'),
    notIpBlocks: list(cidr),
    remoteIpBlocks: list(
      cidr,
      'the original client address (remote.ip; the peer address, as no proxy is trusted)',
    ),
    notRemoteIpBlocks: list(cidr),
    requestPrincipals: jwtOnly('JWT principals (needs RequestAuthentication)'),
    notRequestPrincipals: jwtOnly('JWT principals (needs RequestAuthentication)'),
  },
  {
    check(v, path, ctx) {
      if (Object.keys(v).length === 0)
        ctx.report(
          path,
          ApiErrorCode.Required,
          'a source must set at least one field (leave `from` out to match any source)',
        )
    },
  },
)

const operation = object(
  {
    hosts: list(matchValue('Host (authority), case-insensitive')),
    notHosts: list(matchValue('Host')),
    ports: list(port, 'destination port of the connection'),
    notPorts: list(port),
    methods: list(matchValue('HTTP method')),
    notMethods: list(matchValue('HTTP method')),
    paths: list(path_),
    notPaths: list(path_),
  },
  {
    check(v, path, ctx) {
      if (Object.keys(v).length === 0)
        ctx.report(
          path,
          ApiErrorCode.Required,
          'an operation must set at least one field (leave `to` out to match any operation)',
        )
    },
  },
)

/** What a `when` key reads, and how its values are written. */
export type ConditionKind =
  | { attribute: 'request.headers'; header: string }
  | { attribute: 'source.ip' | 'remote.ip' | 'destination.ip'; cidr: true }
  | { attribute: 'destination.port'; port: true }
  | { attribute: 'source.namespace' | 'source.principal' | 'connection.sni' }

/** Reads a condition key, or says why it is not one minimesh supports. */
export function parseConditionKey(key: string): ConditionKind | { error: string; code: string } {
  const header = /^request\.headers\[([^\]]*)\]$/.exec(key)
  if (header) {
    const name = header[1]!.trim().toLowerCase()
    if (!name) return { error: 'request.headers[] needs a header name', code: ApiErrorCode.ConditionKey }
    return { attribute: 'request.headers', header: name }
  }
  switch (key) {
    case 'source.ip':
    case 'remote.ip':
    case 'destination.ip':
      return { attribute: key, cidr: true }
    case 'destination.port':
      return { attribute: key, port: true }
    case 'source.namespace':
    case 'source.principal':
    case 'connection.sni':
      return { attribute: key }
  }
  if (key.startsWith('request.auth.'))
    return { error: `${key} ${JWT_HINT}`, code: ApiErrorCode.Unimplemented }
  if (key.startsWith('experimental.'))
    return { error: `${key} is not implemented by minimesh`, code: ApiErrorCode.Unimplemented }
  return {
    error: `unknown condition key ${JSON.stringify(key)}: use request.headers[<name>], source.ip, remote.ip, source.namespace, source.principal, destination.ip, destination.port or connection.sni`,
    code: ApiErrorCode.ConditionKey,
  }
}

const condition = object(
  {
    key: string({ description: 'attribute: request.headers[<name>], source.ip, source.principal, …' }),
    values: optional(array(string())),
    notValues: optional(array(string())),
  },
  {
    check(v, path, ctx) {
      const kind = parseConditionKey(v.key)
      if ('error' in kind) {
        ctx.report([...path, 'key'], kind.code, kind.error)
        return
      }
      if (!v.values?.length && !v.notValues?.length)
        ctx.report(
          path,
          ApiErrorCode.Required,
          `condition ${v.key}: set values or notValues (at least one value)`,
        )
      for (const field of ['values', 'notValues'] as const)
        (v[field] ?? []).forEach((x, i) => {
          const at = [...path, field, i]
          if ('cidr' in kind) checkCidr(x, at, ctx)
          else if ('port' in kind) checkPort(x, at, ctx)
          else if (kind.attribute === 'source.principal') principal.check(x, at, ctx)
          else if (x === '') ctx.report(at, ApiErrorCode.Pattern, 'must not be empty')
          else checkWildcard(x, at, ctx)
        })
    },
  },
)

const rule = object({
  from: optional(
    array(object({ source: source }), { description: 'sources; any one matches (absent: any source)' }),
  ),
  to: optional(
    array(object({ operation: operation }), { description: 'operations; any one matches (absent: any)' }),
  ),
  when: optional(array(condition, { description: 'further conditions; all must match' })),
})

export const authorizationPolicySpec = object(
  {
    selector: optional(
      object(
        { matchLabels: optional(record(string())) },
        { description: 'workloads (pod labels); absent: every workload of the namespace' },
      ),
    ),
    action: optional(
      string({
        enum: ['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'] as const,
        description: 'ALLOW (default), DENY or AUDIT; CUSTOM is not implemented',
        check(v, path, ctx) {
          if (v === 'CUSTOM')
            ctx.report(
              path,
              ApiErrorCode.Unimplemented,
              'action CUSTOM (external authorization through a provider) is out of scope for minimesh: use ALLOW, DENY or AUDIT',
            )
        },
      }),
    ),
    provider: optional({
      ...unknownValue(UNIMPLEMENTED_DESCRIPTION),
      check(_v, path, ctx) {
        ctx.report(
          path,
          ApiErrorCode.Unimplemented,
          'provider (external authorization, action CUSTOM) is out of scope for minimesh: use ALLOW, DENY or AUDIT policies',
        )
        return true
      },
    }),
    rules: optional(
      array(rule, {
        description:
          'a request matching any rule is acted on; no rules: the policy matches nothing ([{}] matches everything)',
      }),
    ),
  },
  { unimplemented: ['targetRef', 'targetRefs'] },
)

export type AuthorizationPolicySpec = Infer<typeof authorizationPolicySpec>
export type AuthorizationRule = Infer<typeof rule>
export type AuthorizationSource = Infer<typeof source>
export type AuthorizationOperation = Infer<typeof operation>
export type AuthorizationCondition = Infer<typeof condition>
export type AuthorizationPolicy = Resource<AuthorizationPolicySpec, 'AuthorizationPolicy'>

export const AuthorizationPolicyKind = defineKind({
  ...SECURITY_ISTIO_IO,
  kind: 'AuthorizationPolicy',
  plural: 'authorizationpolicies',
  singular: 'authorizationpolicy',
  shortNames: ['ap'],
  spec: authorizationPolicySpec,
})
