// Istio's AuthorizationPolicy semantics, as tables: policies (as users write them) compiled by the
// control plane's translator, evaluated by the proxy's matchers, against requests and connections.
import type { AuthorizationPolicy, AuthorizationPolicySpec } from '@minimesh/api'
import { compileAuthorization as translatePolicies } from '@minimesh/control-plane'
import { describe, expect, it } from 'vitest'
import {
  type AuthzAttributes,
  compileAuthorization,
  evaluateAuthorization,
  namespaceOf,
} from './authorization.ts'

let seq = 0
const policy = (spec: AuthorizationPolicySpec, ns = 'default'): AuthorizationPolicy => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name: `p${++seq}`, namespace: ns },
  spec,
})

const PRODUCTPAGE = 'cluster.local/ns/default/sa/bookinfo-productpage'

/** A request (or, with http false, a TCP connection); fields override the defaults. */
function req(over: Partial<AuthzAttributes> & { headers?: Record<string, string> } = {}): AuthzAttributes {
  const { headers = {}, ...rest } = over
  return {
    principal: PRODUCTPAGE,
    sourceIp: '198.18.0.16',
    remoteIp: '198.18.0.16',
    destinationIp: '198.18.0.14',
    destinationPort: 9080,
    sni: undefined,
    http: true,
    host: 'reviews:9080',
    method: 'GET',
    path: '/reviews/0',
    header: (n) => headers[n],
    ...rest,
  }
}
const tcp = (over: Partial<AuthzAttributes> = {}) =>
  req({ http: false, host: undefined, method: undefined, path: undefined, header: undefined, ...over })

/** allow / deny for `attrs` under these policies. */
function decide(specs: AuthorizationPolicySpec[], attrs: AuthzAttributes): 'allow' | 'deny' {
  const a = translatePolicies(specs.map((s) => policy(s)))
  if (!a) return 'allow'
  return evaluateAuthorization(compileAuthorization(a), attrs).allow ? 'allow' : 'deny'
}
const allowIf = (rule: NonNullable<AuthorizationPolicySpec['rules']>[number]): AuthorizationPolicySpec => ({
  action: 'ALLOW',
  rules: [rule],
})

describe('evaluation order', () => {
  it('no policy allows; an ALLOW without rules (spec {}) denies all; rules [{}] allows all', () => {
    expect(decide([], req())).toBe('allow')
    expect(decide([{}], req())).toBe('deny')
    expect(decide([{ action: 'ALLOW' }], tcp())).toBe('deny')
    expect(decide([{ rules: [{}] }], req())).toBe('allow')
    expect(decide([{ rules: [{}] }], tcp())).toBe('allow')
  })

  it('a DENY without rules matches nothing; DENY rules [{}] denies all, even what an ALLOW allows', () => {
    expect(decide([{ action: 'DENY' }], req())).toBe('allow')
    expect(decide([{ action: 'DENY', rules: [{}] }], req())).toBe('deny')
    expect(decide([{ action: 'DENY', rules: [{}] }, { rules: [{}] }], req())).toBe('deny')
  })

  it('DENY before ALLOW; with ALLOW policies one must match; only DENY policies: the rest is allowed', () => {
    const denyPost: AuthorizationPolicySpec = {
      action: 'DENY',
      rules: [{ to: [{ operation: { methods: ['POST'] } }] }],
    }
    const allowGet = allowIf({ to: [{ operation: { methods: ['GET'] } }] })
    const allowPost = allowIf({ to: [{ operation: { methods: ['POST'] } }] })
    expect(decide([denyPost], req({ method: 'PUT' }))).toBe('allow')
    expect(decide([denyPost], req({ method: 'POST' }))).toBe('deny')
    expect(decide([denyPost, allowPost], req({ method: 'POST' }))).toBe('deny')
    expect(decide([allowGet], req({ method: 'PUT' }))).toBe('deny')
    expect(decide([allowGet, allowPost], req({ method: 'POST' }))).toBe('allow')
    expect(decide([allowGet, {}], req({ method: 'GET' }))).toBe('allow')
  })

  it('AUDIT never decides: it is reported, and the other policies decide', () => {
    const audit: AuthorizationPolicySpec = {
      action: 'AUDIT',
      rules: [{ to: [{ operation: { paths: ['/admin*'] } }] }],
    }
    const a = translatePolicies([
      policy(audit),
      policy(allowIf({ to: [{ operation: { methods: ['GET'] } }] })),
    ])!
    const c = compileAuthorization(a)
    const r1 = evaluateAuthorization(c, req({ path: '/admin/users' }))
    expect(r1.allow).toBe(true)
    expect(r1.audited).toEqual([a.audit![0]!.name])
    const r2 = evaluateAuthorization(c, req({ path: '/admin/users', method: 'DELETE' }))
    expect([r2.allow, r2.audited.length]).toEqual([false, 1])
    expect(evaluateAuthorization(c, req({ path: '/reviews' })).audited).toEqual([])
    expect(decide([audit], req({ path: '/admin' }))).toBe('allow')
  })

  it('a denial names the DENY policy that matched', () => {
    const a = translatePolicies([policy({ action: 'DENY', rules: [{}] })])!
    expect(evaluateAuthorization(compileAuthorization(a), req()).deniedBy).toBe(a.deny![0]!.name)
  })
})

describe('each field (ALLOW policy with one rule)', () => {
  const cases: [string, AuthorizationPolicySpec, AuthzAttributes, 'allow' | 'deny'][] = [
    // principals (mTLS only: a plaintext request has none)
    ['principals exact', allowIf({ from: [{ source: { principals: [PRODUCTPAGE] } }] }), req(), 'allow'],
    [
      'principals other',
      allowIf({ from: [{ source: { principals: ['cluster.local/ns/default/sa/x'] } }] }),
      req(),
      'deny',
    ],
    [
      'principals plaintext',
      allowIf({ from: [{ source: { principals: [PRODUCTPAGE] } }] }),
      req({ principal: undefined }),
      'deny',
    ],
    [
      'principals * needs mTLS',
      allowIf({ from: [{ source: { principals: ['*'] } }] }),
      req({ principal: undefined }),
      'deny',
    ],
    ['principals * with mTLS', allowIf({ from: [{ source: { principals: ['*'] } }] }), req(), 'allow'],
    [
      'principals prefix',
      allowIf({ from: [{ source: { principals: ['cluster.local/ns/default/*'] } }] }),
      req(),
      'allow',
    ],
    [
      'principals suffix',
      allowIf({ from: [{ source: { principals: ['*/sa/bookinfo-productpage'] } }] }),
      req(),
      'allow',
    ],
    [
      'principals suffix other',
      allowIf({ from: [{ source: { principals: ['*/sa/sleep'] } }] }),
      req(),
      'deny',
    ],
    ['notPrincipals match', allowIf({ from: [{ source: { notPrincipals: [PRODUCTPAGE] } }] }), req(), 'deny'],
    [
      'notPrincipals other',
      allowIf({ from: [{ source: { notPrincipals: ['*/sa/sleep'] } }] }),
      req(),
      'allow',
    ],
    [
      'notPrincipals * plaintext',
      allowIf({ from: [{ source: { notPrincipals: ['*'] } }] }),
      req({ principal: undefined }),
      'allow',
    ],
    // namespaces (from the principal)
    ['namespaces', allowIf({ from: [{ source: { namespaces: ['default'] } }] }), req(), 'allow'],
    ['namespaces other', allowIf({ from: [{ source: { namespaces: ['foo'] } }] }), req(), 'deny'],
    [
      'namespaces plaintext',
      allowIf({ from: [{ source: { namespaces: ['default'] } }] }),
      req({ principal: undefined }),
      'deny',
    ],
    ['namespaces prefix', allowIf({ from: [{ source: { namespaces: ['def*'] } }] }), req(), 'allow'],
    ['notNamespaces', allowIf({ from: [{ source: { notNamespaces: ['default'] } }] }), req(), 'deny'],
    // ipBlocks, remoteIpBlocks
    ['ipBlocks cidr', allowIf({ from: [{ source: { ipBlocks: ['198.18.0.0/16'] } }] }), req(), 'allow'],
    ['ipBlocks address', allowIf({ from: [{ source: { ipBlocks: ['198.18.0.16'] } }] }), req(), 'allow'],
    ['ipBlocks outside', allowIf({ from: [{ source: { ipBlocks: ['10.0.0.0/8'] } }] }), req(), 'deny'],
    ['notIpBlocks', allowIf({ from: [{ source: { notIpBlocks: ['198.18.0.0/24'] } }] }), req(), 'deny'],
    [
      'ipBlocks v6',
      allowIf({ from: [{ source: { ipBlocks: ['fd00::/8'] } }] }),
      req({ sourceIp: 'fd00::5' }),
      'allow',
    ],
    [
      'remoteIpBlocks',
      allowIf({ from: [{ source: { remoteIpBlocks: ['198.18.0.16/32'] } }] }),
      req(),
      'allow',
    ],
    [
      'notRemoteIpBlocks',
      allowIf({ from: [{ source: { notRemoteIpBlocks: ['198.18.0.0/16'] } }] }),
      req(),
      'deny',
    ],
    // one source: all fields; several sources: any
    [
      'source fields AND',
      allowIf({ from: [{ source: { namespaces: ['default'], ipBlocks: ['10.0.0.0/8'] } }] }),
      req(),
      'deny',
    ],
    [
      'sources OR',
      allowIf({ from: [{ source: { ipBlocks: ['10.0.0.0/8'] } }, { source: { namespaces: ['default'] } }] }),
      req(),
      'allow',
    ],
    // hosts (case-insensitive, as sent)
    ['hosts exact', allowIf({ to: [{ operation: { hosts: ['reviews:9080'] } }] }), req(), 'allow'],
    [
      'hosts case',
      allowIf({ to: [{ operation: { hosts: ['Reviews:9080'] } }] }),
      req({ host: 'reviews:9080' }),
      'allow',
    ],
    ['hosts port is part of it', allowIf({ to: [{ operation: { hosts: ['reviews'] } }] }), req(), 'deny'],
    ['hosts prefix', allowIf({ to: [{ operation: { hosts: ['reviews*'] } }] }), req(), 'allow'],
    [
      'hosts suffix',
      allowIf({ to: [{ operation: { hosts: ['*.example.com'] } }] }),
      req({ host: 'a.example.com' }),
      'allow',
    ],
    ['notHosts', allowIf({ to: [{ operation: { notHosts: ['reviews*'] } }] }), req(), 'deny'],
    // ports
    ['ports', allowIf({ to: [{ operation: { ports: ['9080'] } }] }), req(), 'allow'],
    ['ports other', allowIf({ to: [{ operation: { ports: ['8080'] } }] }), req(), 'deny'],
    ['notPorts', allowIf({ to: [{ operation: { notPorts: ['9080'] } }] }), req(), 'deny'],
    // methods
    [
      'methods',
      allowIf({ to: [{ operation: { methods: ['GET', 'HEAD'] } }] }),
      req({ method: 'HEAD' }),
      'allow',
    ],
    [
      'methods other',
      allowIf({ to: [{ operation: { methods: ['GET'] } }] }),
      req({ method: 'POST' }),
      'deny',
    ],
    [
      'notMethods',
      allowIf({ to: [{ operation: { notMethods: ['DELETE'] } }] }),
      req({ method: 'DELETE' }),
      'deny',
    ],
    // paths: exact, prefix, suffix, presence
    ['paths exact', allowIf({ to: [{ operation: { paths: ['/reviews/0'] } }] }), req(), 'allow'],
    ['paths exact other', allowIf({ to: [{ operation: { paths: ['/reviews'] } }] }), req(), 'deny'],
    ['paths prefix', allowIf({ to: [{ operation: { paths: ['/reviews/*'] } }] }), req(), 'allow'],
    [
      'paths suffix',
      allowIf({ to: [{ operation: { paths: ['*/info'] } }] }),
      req({ path: '/a/b/info' }),
      'allow',
    ],
    ['paths suffix other', allowIf({ to: [{ operation: { paths: ['*/info'] } }] }), req(), 'deny'],
    ['paths presence', allowIf({ to: [{ operation: { paths: ['*'] } }] }), req(), 'allow'],
    ['notPaths', allowIf({ to: [{ operation: { notPaths: ['/reviews/*'] } }] }), req(), 'deny'],
    [
      'operation fields AND',
      allowIf({ to: [{ operation: { methods: ['GET'], paths: ['/admin'] } }] }),
      req(),
      'deny',
    ],
    [
      'operations OR',
      allowIf({ to: [{ operation: { paths: ['/admin'] } }, { operation: { methods: ['GET'] } }] }),
      req(),
      'allow',
    ],
    // from and to and when: all of them
    [
      'from AND to',
      allowIf({
        from: [{ source: { principals: [PRODUCTPAGE] } }],
        to: [{ operation: { methods: ['POST'] } }],
      }),
      req(),
      'deny',
    ],
  ]
  it.each(cases)('%s', (_name, spec, attrs, want) => {
    expect(decide([spec], attrs)).toBe(want)
  })
})

describe('when conditions', () => {
  const when = (key: string, values?: string[], notValues?: string[]) =>
    allowIf({ when: [{ key, ...(values ? { values } : {}), ...(notValues ? { notValues } : {}) }] })
  const cases: [string, AuthorizationPolicySpec, AuthzAttributes, 'allow' | 'deny'][] = [
    [
      'header exact',
      when('request.headers[end-user]', ['jason']),
      req({ headers: { 'end-user': 'jason' } }),
      'allow',
    ],
    [
      'header name any case',
      when('request.headers[End-User]', ['jason']),
      req({ headers: { 'end-user': 'jason' } }),
      'allow',
    ],
    [
      'header other',
      when('request.headers[end-user]', ['jason']),
      req({ headers: { 'end-user': 'bob' } }),
      'deny',
    ],
    ['header absent', when('request.headers[end-user]', ['*']), req(), 'deny'],
    [
      'header presence',
      when('request.headers[end-user]', ['*']),
      req({ headers: { 'end-user': 'x' } }),
      'allow',
    ],
    ['header notValues absent', when('request.headers[x-canary]', undefined, ['*']), req(), 'allow'],
    [
      'header notValues',
      when('request.headers[x-canary]', undefined, ['*']),
      req({ headers: { 'x-canary': '1' } }),
      'deny',
    ],
    [
      'header values and notValues',
      when('request.headers[v]', ['v*'], ['v2']),
      req({ headers: { v: 'v2' } }),
      'deny',
    ],
    ['source.ip', when('source.ip', ['198.18.0.0/16']), req(), 'allow'],
    ['source.ip not', when('source.ip', undefined, ['198.18.0.0/16']), req(), 'deny'],
    ['remote.ip', when('remote.ip', ['10.0.0.0/8']), req(), 'deny'],
    ['destination.ip', when('destination.ip', ['198.18.0.14']), req(), 'allow'],
    ['destination.port', when('destination.port', ['9080']), req(), 'allow'],
    ['destination.port other', when('destination.port', ['80']), req(), 'deny'],
    ['source.namespace', when('source.namespace', ['default']), req(), 'allow'],
    [
      'source.namespace plaintext',
      when('source.namespace', ['default']),
      req({ principal: undefined }),
      'deny',
    ],
    ['source.principal', when('source.principal', [PRODUCTPAGE]), req(), 'allow'],
    ['source.principal suffix', when('source.principal', ['*/sa/sleep']), req(), 'deny'],
    ['connection.sni unknown: values never match', when('connection.sni', ['*']), req(), 'deny'],
    [
      'connection.sni unknown: notValues hold',
      when('connection.sni', undefined, ['a.example.com']),
      req(),
      'allow',
    ],
  ]
  it.each(cases)('%s', (_name, spec, attrs, want) => {
    expect(decide([spec], attrs)).toBe(want)
  })

  it('all conditions must hold', () => {
    const spec = allowIf({
      when: [
        { key: 'source.namespace', values: ['default'] },
        { key: 'request.headers[end-user]', values: ['jason'] },
      ],
    })
    expect(decide([spec], req({ headers: { 'end-user': 'jason' } }))).toBe('allow')
    expect(decide([spec], req({ principal: undefined, headers: { 'end-user': 'jason' } }))).toBe('deny')
  })
})

describe('TCP connections (Istio: HTTP-only fields narrow an ALLOW, widen a DENY)', () => {
  it('connection-level rules decide as for HTTP', () => {
    expect(decide([allowIf({ from: [{ source: { principals: [PRODUCTPAGE] } }] })], tcp())).toBe('allow')
    expect(
      decide([allowIf({ from: [{ source: { principals: [PRODUCTPAGE] } }] })], tcp({ principal: undefined })),
    ).toBe('deny')
    expect(decide([allowIf({ from: [{ source: { namespaces: ['foo'] } }] })], tcp())).toBe('deny')
    expect(decide([allowIf({ to: [{ operation: { ports: ['9080'] } }] })], tcp())).toBe('allow')
    expect(decide([allowIf({ from: [{ source: { ipBlocks: ['10.0.0.0/8'] } }] })], tcp())).toBe('deny')
    expect(decide([{ action: 'DENY', rules: [{ to: [{ operation: { ports: ['27017'] } }] }] }], tcp())).toBe(
      'allow',
    )
  })

  it('an ALLOW rule that uses an HTTP-only field never matches a TCP connection', () => {
    const mongo = allowIf({
      from: [{ source: { principals: [PRODUCTPAGE] } }],
      to: [{ operation: { ports: ['9080'], methods: ['GET'] } }],
    })
    expect(decide([mongo], req())).toBe('allow')
    expect(decide([mongo], tcp())).toBe('deny')
    // another rule without HTTP fields still can
    expect(decide([{ rules: [...mongo.rules!, { to: [{ operation: { ports: ['9080'] } }] }] }], tcp())).toBe(
      'allow',
    )
    expect(decide([allowIf({ when: [{ key: 'request.headers[x]', notValues: ['*'] }] })], tcp())).toBe('deny')
  })

  it('in a DENY rule the HTTP-only fields are left out, so it denies more', () => {
    const denyGet: AuthorizationPolicySpec = {
      action: 'DENY',
      rules: [{ to: [{ operation: { methods: ['GET'] } }] }],
    }
    expect(decide([denyGet], req({ method: 'POST' }))).toBe('allow')
    expect(decide([denyGet], tcp())).toBe('deny')
    const denyGetFromFoo: AuthorizationPolicySpec = {
      action: 'DENY',
      rules: [
        { from: [{ source: { namespaces: ['foo'] } }], to: [{ operation: { notPaths: ['/healthz'] } }] },
      ],
    }
    expect(decide([denyGetFromFoo], tcp())).toBe('allow')
    expect(decide([denyGetFromFoo], tcp({ principal: 'cluster.local/ns/foo/sa/x' }))).toBe('deny')
  })
})

it('namespaceOf reads the namespace of a principal', () => {
  expect(namespaceOf('cluster.local/ns/default/sa/x')).toBe('default')
  expect(namespaceOf('td/ns/a-b')).toBe('a-b')
  expect(namespaceOf('nothing')).toBeUndefined()
  expect(namespaceOf(undefined)).toBeUndefined()
})
