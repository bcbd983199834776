// Authorization (Istio's AuthorizationPolicy, Envoy's RBAC filter): on the inbound path, the
// chain's compiled policies decide before the request reaches the application, in Istio's order:
// a matching DENY policy denies; matching AUDIT policies are logged; when there are ALLOW
// policies one must match, else the request is denied; otherwise it is allowed. Denied HTTP is
// the local reply 403 `RBAC: access denied` (flag RBAC); a TCP connection is closed before any
// upstream connection (listeners/tcp.ts). Synchronous: no promise on the hot path.
//
// Attributes: source.principal and source.namespace come only from the connection's verified
// peer certificate (conn.peerPrincipal), never from a header. source.ip is the downstream peer
// address; remote.ip is the same address (Istio with numTrustedProxies 0, its default: a
// sidecar trusts no X-Forwarded-For). request.host is the Host/:authority as sent (case-
// insensitive; a port in it is part of the value, as in Istio); request.path is the path without
// the query, with dot segments resolved. connection.sni is not known on inbound connections yet
// (an SNI condition matches only through notValues).
//
// On TCP, request.* attributes do not exist: a rule of an ALLOW policy that uses one never
// matches (the ALLOW gets narrower), and in DENY and AUDIT policies such a match is left out (the
// DENY gets wider), as Istio builds its TCP filters.
import { BlockList, isIPv6 } from 'node:net'
import type { Authorization, AuthzMatch, AuthzPolicy, AuthzRule, AuthzString } from '@minimesh/api'
import { Flag } from '../http/record.ts'
import { type ConnContext, plainAddress } from '../listeners/conn.ts'
import type { LocalReply } from './local-reply.ts'
import type { RequestState } from './state.ts'

/** What a request (or a TCP connection) is judged on. */
export interface AuthzAttributes {
  /** `cluster.local/ns/<ns>/sa/<sa>` from the peer certificate; undefined on plaintext. */
  principal: string | undefined
  sourceIp: string
  remoteIp: string
  destinationIp: string
  destinationPort: number
  sni: string | undefined
  /** False for a TCP connection: no request.* attributes. */
  http: boolean
  /** Lower case. */
  host?: string | undefined
  method?: string | undefined
  /** Without the query. */
  path?: string | undefined
  header?: ((name: string) => string | undefined) | undefined
}

export interface AuthzDecision {
  allow: boolean
  /** The DENY policy that matched, or undefined when no ALLOW policy matched (or allowed). */
  deniedBy: string | undefined
  /** AUDIT policies that matched. */
  audited: readonly string[]
}

type Test = (a: AuthzAttributes) => boolean
type Action = 'deny' | 'allow' | 'audit'

interface CompiledMatch {
  /** Reads a request.* attribute (absent on TCP). */
  http: boolean
  test: Test
}

interface CompiledRule {
  from: CompiledMatch[][] | undefined
  to: CompiledMatch[][] | undefined
  when: CompiledMatch[]
  http: boolean
}

interface CompiledPolicy {
  name: string
  rules: CompiledRule[]
}

export interface CompiledAuthorization {
  deny: CompiledPolicy[]
  allow: CompiledPolicy[]
  audit: CompiledPolicy[]
}

function stringTest(m: AuthzString): (v: string | undefined) => boolean {
  if (m.presence) return (v) => v !== undefined && v !== ''
  if (m.prefix !== undefined) {
    const p = m.prefix
    return (v) => v?.startsWith(p) === true
  }
  if (m.suffix !== undefined) {
    const x = m.suffix
    return (v) => v?.endsWith(x) === true
  }
  const e = m.exact
  return (v) => v === e
}

function anyString(ms: readonly AuthzString[]): (v: string | undefined) => boolean {
  const tests = ms.map(stringTest)
  if (tests.length === 1) return tests[0]!
  return (v) => {
    for (const t of tests) if (t(v)) return true
    return false
  }
}

function cidrTest(cidrs: readonly string[]): (ip: string) => boolean {
  const list = new BlockList()
  for (const c of cidrs) {
    const [addr, bits] = c.split('/') as [string, string | undefined]
    const v6 = isIPv6(addr)
    list.addSubnet(addr, Number(bits ?? (v6 ? 128 : 32)), v6 ? 'ipv6' : 'ipv4')
  }
  return (ip) => {
    if (!ip) return false
    try {
      return list.check(ip, isIPv6(ip) ? 'ipv6' : 'ipv4')
    } catch {
      return false
    }
  }
}

/** The namespace of a principal `<td>/ns/<ns>/sa/<sa>`. */
export function namespaceOf(principal: string | undefined): string | undefined {
  if (!principal) return undefined
  const a = principal.indexOf('/ns/')
  if (a === -1) return undefined
  const b = principal.indexOf('/', a + 4)
  return principal.slice(a + 4, b === -1 ? undefined : b)
}

function compileMatch(m: AuthzMatch): CompiledMatch {
  let test: Test
  switch (m.attribute) {
    case 'source.ip':
    case 'remote.ip':
    case 'destination.ip': {
      const t = cidrTest(m.cidrs ?? [])
      const read =
        m.attribute === 'source.ip'
          ? (a: AuthzAttributes) => a.sourceIp
          : m.attribute === 'remote.ip'
            ? (a: AuthzAttributes) => a.remoteIp
            : (a: AuthzAttributes) => a.destinationIp
      test = (a) => t(read(a))
      break
    }
    case 'destination.port': {
      const ports = new Set(m.ports ?? [])
      test = (a) => ports.has(a.destinationPort)
      break
    }
    default: {
      const t = anyString(m.strings ?? [])
      const header = m.header ?? ''
      const read: (a: AuthzAttributes) => string | undefined =
        m.attribute === 'source.principal'
          ? (a) => a.principal
          : m.attribute === 'source.namespace'
            ? (a) => namespaceOf(a.principal)
            : m.attribute === 'connection.sni'
              ? (a) => a.sni
              : m.attribute === 'request.host'
                ? (a) => a.host
                : m.attribute === 'request.method'
                  ? (a) => a.method
                  : m.attribute === 'request.path'
                    ? (a) => a.path
                    : (a) => a.header?.(header)
      test = (a) => t(read(a))
    }
  }
  const positive = test
  return { http: m.attribute.startsWith('request.'), test: m.not ? (a) => !positive(a) : positive }
}

function compileRule(r: AuthzRule): CompiledRule {
  const from = r.from?.map((src) => src.map(compileMatch))
  const to = r.to?.map((op) => op.map(compileMatch))
  const when = (r.when ?? []).map(compileMatch)
  const http = [...(from ?? []).flat(), ...(to ?? []).flat(), ...when].some((m) => m.http)
  return { from, to, when, http }
}

function compilePolicy(p: AuthzPolicy): CompiledPolicy {
  return { name: p.name, rules: p.rules.map(compileRule) }
}

const compiled = new WeakMap<Authorization, CompiledAuthorization>()

/** The matchers of a chain's authorization, built once per configuration object. */
export function compileAuthorization(a: Authorization): CompiledAuthorization {
  let c = compiled.get(a)
  if (!c) {
    c = {
      deny: (a.deny ?? []).map(compilePolicy),
      allow: (a.allow ?? []).map(compilePolicy),
      audit: (a.audit ?? []).map(compilePolicy),
    }
    compiled.set(a, c)
  }
  return c
}

/** All matches hold; on TCP a request.* match holds (DENY, AUDIT: left out). */
function all(ms: readonly CompiledMatch[], a: AuthzAttributes): boolean {
  for (const m of ms) if (!(m.http && !a.http) && !m.test(a)) return false
  return true
}

function anyOf(groups: readonly CompiledMatch[][] | undefined, a: AuthzAttributes): boolean {
  if (!groups) return true
  for (const g of groups) if (all(g, a)) return true
  return false
}

function ruleMatches(r: CompiledRule, a: AuthzAttributes, action: Action): boolean {
  if (r.http && !a.http && action === 'allow') return false
  return anyOf(r.from, a) && anyOf(r.to, a) && all(r.when, a)
}

function policyMatches(p: CompiledPolicy, a: AuthzAttributes, action: Action): boolean {
  for (const r of p.rules) if (ruleMatches(r, a, action)) return true
  return false
}

const NONE: readonly string[] = []

/** Istio's evaluation: DENY, then AUDIT (logged only), then ALLOW (if any exists, one must match). */
export function evaluateAuthorization(c: CompiledAuthorization, a: AuthzAttributes): AuthzDecision {
  for (const p of c.deny)
    if (policyMatches(p, a, 'deny')) return { allow: false, deniedBy: p.name, audited: NONE }
  let audited = NONE
  for (const p of c.audit) if (policyMatches(p, a, 'audit')) audited = [...audited, p.name]
  if (c.allow.length === 0) return { allow: true, deniedBy: undefined, audited }
  for (const p of c.allow)
    if (policyMatches(p, a, 'allow')) return { allow: true, deniedBy: undefined, audited }
  return { allow: false, deniedBy: undefined, audited }
}

/** The connection-level attributes (a TCP connection's, and every request's on it). */
function connectionAttributes(conn: ConnContext): AuthzAttributes {
  const ip = plainAddress(conn.remoteAddress)
  return {
    principal: conn.peerPrincipal,
    sourceIp: ip,
    remoteIp: ip,
    destinationIp: plainAddress(conn.originalIp),
    destinationPort: conn.originalPort,
    sni: undefined,
    http: false,
  }
}

/** The path Istio matches: no query; dot segments resolved (`/a/../admin` is `/admin`). */
function matchPath(target: string): string {
  const q = target.indexOf('?')
  const path = q === -1 ? target : target.slice(0, q)
  if (!path.includes('.') && !path.includes('%') && !path.includes('\\')) return path
  try {
    return new URL(path, 'http://x').pathname
  } catch {
    return path
  }
}

function requestAttributes(s: RequestState): AuthzAttributes {
  const a = connectionAttributes(s.conn)
  a.http = true
  a.host = s.rec.authority.toLowerCase()
  a.method = s.rec.method
  a.path = matchPath(s.rec.path)
  const headers = s.req.headers
  a.header = (name) => {
    const v = headers[name]
    return Array.isArray(v) ? v.join(',') : v
  }
  return a
}

const RBAC_DENIED: LocalReply = {
  status: 403,
  body: 'RBAC: access denied',
  flag: Flag.RbacAccessDenied,
}

/** Pipeline stage: inbound requests on a chain with authorization. */
export function checkAuthorization(s: RequestState): LocalReply | undefined {
  const conn = s.conn
  const authz = conn.chain.authorization
  if (authz === undefined || conn.direction !== 'INBOUND') return undefined
  const d = evaluateAuthorization(compileAuthorization(authz), requestAttributes(s))
  if (d.audited.length)
    s.ctx.log.info(
      {
        audit: d.audited,
        requestId: s.rec.requestId,
        method: s.rec.method,
        path: s.rec.path,
        principal: conn.peerPrincipal,
        source: conn.remoteAddress,
        allowed: d.allow,
      },
      'authorization audit',
    )
  if (d.allow) return undefined
  s.ctx.log.debug(
    {
      requestId: s.rec.requestId,
      deniedBy: d.deniedBy ?? 'no ALLOW policy matched',
      principal: conn.peerPrincipal,
    },
    'RBAC: access denied',
  )
  return RBAC_DENIED
}

/** For the TCP proxy: may this inbound connection go on? Logs AUDIT matches. */
export function authorizeConnection(log: { info(o: object, msg: string): void }, conn: ConnContext): boolean {
  const authz = conn.chain.authorization
  if (authz === undefined || conn.direction !== 'INBOUND') return true
  const d = evaluateAuthorization(compileAuthorization(authz), connectionAttributes(conn))
  if (d.audited.length)
    log.info(
      {
        audit: d.audited,
        principal: conn.peerPrincipal,
        source: conn.remoteAddress,
        port: conn.originalPort,
        allowed: d.allow,
      },
      'authorization audit',
    )
  return d.allow
}
