// AuthorizationPolicies → the `authorization` of a sidecar's inbound filter chains. Which policies
// apply (Istio): those of the root namespace (mesh-wide) and of the workload's own namespace,
// whose selector (absent: every workload) matches the workload's labels. Each policy is compiled
// into flat matches (config/authorization.ts) so the proxy evaluates without reading policies.
import {
  type Authorization,
  type AuthorizationCondition,
  type AuthorizationOperation,
  type AuthorizationPolicy,
  type AuthorizationSource,
  type AuthzMatch,
  type AuthzPolicy,
  type AuthzRule,
  type AuthzString,
  authorizationPoliciesFor,
  parseConditionKey,
} from '@minimesh/api'
import type { PushContext } from './context.ts'
import { namespacedName } from './names.ts'
import type { ProxyInfo } from './proxy.ts'

/** Istio's value forms: `*` present, `*abc` suffix, `abc*` prefix, else exact. */
function stringMatcher(v: string, lowerCase = false): AuthzString {
  const x = lowerCase ? v.toLowerCase() : v
  if (x === '*') return { presence: true }
  if (x.startsWith('*')) return { suffix: x.slice(1) }
  if (x.endsWith('*')) return { prefix: x.slice(0, -1) }
  return { exact: x }
}

/** An address as a CIDR block (`/32` or `/128` when it has no prefix length). */
function cidr(v: string): string {
  return v.includes('/') ? v : `${v}/${v.includes(':') ? 128 : 32}`
}

type Kind = 'strings' | 'lowerStrings' | 'cidrs' | 'ports'

function match(
  attribute: AuthzMatch['attribute'],
  kind: Kind,
  values: readonly string[] | undefined,
  not: boolean,
  header?: string,
): AuthzMatch[] {
  if (!values || values.length === 0) return []
  const m: AuthzMatch = { attribute }
  if (header !== undefined) m.header = header
  if (not) m.not = true
  if (kind === 'cidrs') m.cidrs = values.map(cidr)
  else if (kind === 'ports') m.ports = values.map(Number)
  else m.strings = values.map((v) => stringMatcher(v, kind === 'lowerStrings'))
  return [m]
}

function sourceMatches(s: AuthorizationSource): AuthzMatch[] {
  return [
    ...match('source.principal', 'strings', s.principals, false),
    ...match('source.principal', 'strings', s.notPrincipals, true),
    ...match('source.namespace', 'strings', s.namespaces, false),
    ...match('source.namespace', 'strings', s.notNamespaces, true),
    ...match('source.ip', 'cidrs', s.ipBlocks, false),
    ...match('source.ip', 'cidrs', s.notIpBlocks, true),
    ...match('remote.ip', 'cidrs', s.remoteIpBlocks, false),
    ...match('remote.ip', 'cidrs', s.notRemoteIpBlocks, true),
  ]
}

function operationMatches(o: AuthorizationOperation): AuthzMatch[] {
  return [
    ...match('request.host', 'lowerStrings', o.hosts, false),
    ...match('request.host', 'lowerStrings', o.notHosts, true),
    ...match('destination.port', 'ports', o.ports, false),
    ...match('destination.port', 'ports', o.notPorts, true),
    ...match('request.method', 'strings', o.methods, false),
    ...match('request.method', 'strings', o.notMethods, true),
    ...match('request.path', 'strings', o.paths, false),
    ...match('request.path', 'strings', o.notPaths, true),
  ]
}

function conditionMatches(c: AuthorizationCondition): AuthzMatch[] {
  const key = parseConditionKey(c.key)
  if ('error' in key) return [] // rejected by validation; never in an accepted policy
  const kind: Kind = 'cidr' in key ? 'cidrs' : 'port' in key ? 'ports' : 'strings'
  const header = 'header' in key ? key.header : undefined
  return [
    ...match(key.attribute, kind, c.values, false, header),
    ...match(key.attribute, kind, c.notValues, true, header),
  ]
}

/** One AuthorizationPolicy as the proxy evaluates it. */
export function compileAuthorizationPolicy(ap: AuthorizationPolicy): AuthzPolicy {
  return {
    name: namespacedName(ap.metadata),
    rules: (ap.spec.rules ?? []).map((r) => {
      const rule: AuthzRule = {}
      if (r.from?.length) rule.from = r.from.map((f) => sourceMatches(f.source))
      if (r.to?.length) rule.to = r.to.map((t) => operationMatches(t.operation))
      if (r.when?.length) rule.when = r.when.flatMap(conditionMatches)
      return rule
    }),
  }
}

/** The policies that apply to a workload, compiled and grouped by action; undefined when none does. */
export function compileAuthorization(policies: readonly AuthorizationPolicy[]): Authorization | undefined {
  if (policies.length === 0) return undefined
  const out: Required<Authorization> = { deny: [], allow: [], audit: [] }
  for (const ap of policies) {
    const action = ap.spec.action ?? 'ALLOW'
    if (action === 'DENY') out.deny.push(compileAuthorizationPolicy(ap))
    else if (action === 'AUDIT') out.audit.push(compileAuthorizationPolicy(ap))
    else if (action === 'ALLOW') out.allow.push(compileAuthorizationPolicy(ap))
  }
  const result: Authorization = {}
  if (out.deny.length) result.deny = out.deny
  if (out.allow.length) result.allow = out.allow
  if (out.audit.length) result.audit = out.audit
  return result
}

/**
 * The authorization of a sidecar: policies of the root namespace (every workload of the mesh its
 * selector matches) and of its own namespace, oldest first (the snapshot's order). Memoized per
 * namespace and label set, like the inbound configuration it goes into.
 */
export function authorizationFor(ctx: PushContext, proxy: ProxyInfo): Authorization | undefined {
  return compileAuthorization(
    authorizationPoliciesFor(ctx.snapshot.authorizationPolicies, proxy.namespace, proxy.labels),
  )
}
