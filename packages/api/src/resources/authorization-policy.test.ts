import { describe, expect, it } from 'vitest'
import { analyze } from '../analyze/index.ts'
import { ApiErrorCode as C } from '../errors.ts'
import { validateObject } from '../validate.ts'
import { loadYaml } from '../yaml/load.ts'

const ap = (spec: unknown, version = 'v1', ns = 'default') => ({
  apiVersion: `security.istio.io/${version}`,
  kind: 'AuthorizationPolicy',
  metadata: { name: 'p', namespace: ns },
  spec,
})
const issues = (spec: unknown) => validateObject(ap(spec)).map((f) => [f.code, f.path])
const messages = (spec: unknown) => validateObject(ap(spec)).map((f) => f.message)

describe('AuthorizationPolicy validation', () => {
  it('accepts the Istio examples in v1 and v1beta1, spec {} and rules [{}]', () => {
    const full = {
      selector: { matchLabels: { app: 'httpbin', version: 'v1' } },
      action: 'ALLOW',
      rules: [
        {
          from: [
            { source: { principals: ['cluster.local/ns/default/sa/sleep'], notPrincipals: ['*/sa/admin'] } },
            { source: { namespaces: ['dev', 'test-*'], ipBlocks: ['10.0.0.0/8', '198.18.0.7'] } },
            {
              source: {
                remoteIpBlocks: ['fd00::/8'],
                notRemoteIpBlocks: ['1.2.3.4/32'],
                notIpBlocks: ['::1'],
              },
            },
          ],
          to: [
            {
              operation: {
                methods: ['GET', 'HEAD'],
                paths: ['/test/*', '*/info'],
                ports: ['8000'],
                hosts: ['*.example.com'],
              },
            },
          ],
          when: [
            { key: 'request.headers[version]', values: ['v1', 'v2'] },
            { key: 'source.ip', notValues: ['10.1.0.0/16'] },
            { key: 'destination.port', values: ['9080'] },
            { key: 'source.principal', values: ['cluster.local/ns/default/sa/sleep'] },
            { key: 'connection.sni', values: ['*.svc.cluster.local'] },
          ],
        },
      ],
    }
    expect(issues(full)).toEqual([])
    expect(validateObject(ap(full, 'v1beta1'))).toEqual([])
    expect(issues({})).toEqual([])
    expect(issues({ rules: [{}] })).toEqual([])
    expect(issues({ action: 'DENY', rules: [{}] })).toEqual([])
    expect(issues({ action: 'AUDIT', rules: [{ to: [{ operation: { notPaths: ['/healthz'] } }] }] })).toEqual(
      [],
    )
  })

  it('CUSTOM and provider are out of scope', () => {
    expect(issues({ action: 'CUSTOM', provider: { name: 'ext' }, rules: [{}] })).toEqual([
      [C.Unimplemented, 'spec.action'],
      [C.Unimplemented, 'spec.provider'],
    ])
    expect(messages({ action: 'CUSTOM' })[0]).toMatch(/CUSTOM .*out of scope/)
    expect(issues({ action: 'allow' })).toEqual([[C.Enum, 'spec.action']])
  })

  it('a principal in the wrong form is an error at its path', () => {
    const from = (principals: string[]) => ({ rules: [{ from: [{ source: { principals } }] }] })
    expect(issues(from(['spiffe://cluster.local/ns/default/sa/sleep']))).toEqual([
      [C.Pattern, 'spec.rules[0].from[0].source.principals[0]'],
    ])
    expect(messages(from(['spiffe://cluster.local/ns/a/sa/b']))[0]).toContain('"cluster.local/ns/a/sa/b"')
    expect(issues(from(['sleep', 'cluster.local/sa/sleep', 'cluster.local/ns/default']))).toEqual([
      [C.Pattern, 'spec.rules[0].from[0].source.principals[0]'],
      [C.Pattern, 'spec.rules[0].from[0].source.principals[1]'],
      [C.Pattern, 'spec.rules[0].from[0].source.principals[2]'],
    ])
    expect(issues(from(['*', 'cluster.local/ns/default/*', '*/sa/sleep']))).toEqual([])
    expect(issues(from(['cluster.local/ns/team-*/sa/x']))).toEqual([
      [C.Pattern, 'spec.rules[0].from[0].source.principals[0]'],
    ])
  })

  it('a bad CIDR, port or condition key is an error at its path', () => {
    expect(
      issues({
        rules: [
          {
            from: [{ source: { ipBlocks: ['10.0.0.0/33', '10.0.0.256', 'fd00::/129', 'x'] } }],
            to: [{ operation: { ports: ['0', 'http', '65536'] } }],
          },
        ],
      }),
    ).toEqual([
      [C.Cidr, 'spec.rules[0].from[0].source.ipBlocks[0]'],
      [C.Cidr, 'spec.rules[0].from[0].source.ipBlocks[1]'],
      [C.Cidr, 'spec.rules[0].from[0].source.ipBlocks[2]'],
      [C.Cidr, 'spec.rules[0].from[0].source.ipBlocks[3]'],
      [C.Range, 'spec.rules[0].to[0].operation.ports[0]'],
      [C.Range, 'spec.rules[0].to[0].operation.ports[1]'],
      [C.Range, 'spec.rules[0].to[0].operation.ports[2]'],
    ])
    expect(
      issues({
        rules: [
          {
            when: [
              { key: 'request.method', values: ['GET'] },
              { key: 'source.ip', values: ['nope'] },
              { key: 'request.headers[]', values: ['a'] },
              { key: 'request.headers[x]' },
              { key: 'destination.port', notValues: ['abc'] },
            ],
          },
        ],
      }),
    ).toEqual([
      [C.ConditionKey, 'spec.rules[0].when[0].key'],
      [C.Cidr, 'spec.rules[0].when[1].values[0]'],
      [C.ConditionKey, 'spec.rules[0].when[2].key'],
      [C.Required, 'spec.rules[0].when[3]'],
      [C.Range, 'spec.rules[0].when[4].notValues[0]'],
    ])
    expect(messages({ rules: [{ when: [{ key: 'request.method', values: ['GET'] }] }] })[0]).toMatch(
      /unknown condition key "request.method": use request.headers/,
    )
  })

  it('request authentication (JWT) is not implemented: requestPrincipals and request.auth.* are errors', () => {
    expect(
      issues({
        rules: [
          {
            from: [{ source: { requestPrincipals: ['*'] } }, { source: { notRequestPrincipals: ['*'] } }],
            when: [{ key: 'request.auth.claims[iss]', values: ['https://accounts.google.com'] }],
          },
        ],
      }),
    ).toEqual([
      [C.Unimplemented, 'spec.rules[0].from[0].source.requestPrincipals'],
      [C.Unimplemented, 'spec.rules[0].from[1].source.notRequestPrincipals'],
      [C.Unimplemented, 'spec.rules[0].when[0].key'],
    ])
    expect(messages({ rules: [{ from: [{ source: { requestPrincipals: ['*'] } }] }] })[0]).toContain(
      'RequestAuthentication',
    )
  })

  it('wildcards only at one end; empty source, operation and values are errors; targetRef is not implemented', () => {
    expect(
      issues({
        targetRef: { kind: 'Service', name: 'x' },
        rules: [
          {
            from: [{ source: {} }],
            to: [{ operation: { paths: ['/a*b', '*a*', '/api/{*}'], methods: [''] } }, { operation: {} }],
            when: [{ key: 'request.headers[x-a]', values: ['a*b'] }],
          },
        ],
      }),
    ).toEqual([
      [C.Unimplemented, 'spec.targetRef'],
      [C.Required, 'spec.rules[0].from[0].source'],
      [C.Pattern, 'spec.rules[0].to[0].operation.paths[0]'],
      [C.Pattern, 'spec.rules[0].to[0].operation.paths[1]'],
      [C.Unimplemented, 'spec.rules[0].to[0].operation.paths[2]'],
      [C.Pattern, 'spec.rules[0].to[0].operation.methods[0]'],
      [C.Required, 'spec.rules[0].to[1].operation'],
      [C.Pattern, 'spec.rules[0].when[0].values[0]'],
    ])
  })
})

describe('analyze: AuthorizationPolicy selectors', () => {
  const objects = (text: string) => {
    const r = loadYaml(text, 'test.yaml')
    expect(r.findings).toEqual([])
    return r.objects
  }
  const workloads = objects(`apiVersion: apps/v1
kind: Deployment
metadata: {name: ratings-v1, namespace: default}
spec:
  selector: {matchLabels: {app: ratings}}
  template:
    metadata: {labels: {app: ratings, version: v1}}
    spec: {containers: [{name: ratings, image: ratings}]}
---
apiVersion: v1
kind: Pod
metadata: {name: sleep, namespace: foo, labels: {app: sleep}}
spec: {containers: [{name: sleep, image: sleep}]}
`)
  const policy = (ns: string, selector?: Record<string, string>) =>
    objects(
      `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: ${ns}}\nspec:\n${selector ? `  selector: {matchLabels: ${JSON.stringify(selector)}}\n` : ''}  action: DENY\n  rules: [{}]\n`,
    )
  const warnings = (ns: string, selector?: Record<string, string>) =>
    analyze([...workloads, ...policy(ns, selector)])
      .filter((f) => f.code === C.NoMatchingWorkload)
      .map((f) => [f.severity, f.path, f.message])

  it('warns for a selector that selects no workload in the namespace', () => {
    expect(warnings('default', { app: 'ratings' })).toEqual([])
    expect(warnings('default', { app: 'ratings', version: 'v1' })).toEqual([])
    expect(warnings('default', { app: 'sleep' })).toEqual([
      [
        'warning',
        'spec.selector',
        'selector app=sleep matches no workload in namespace default among the inputs: this AuthorizationPolicy applies to nothing',
      ],
    ])
    expect(warnings('bar')).toEqual([
      [
        'warning',
        'metadata.namespace',
        'there is no workload in namespace bar among the inputs: this AuthorizationPolicy applies to nothing',
      ],
    ])
  })

  it('a policy in the root namespace minimesh-system selects workloads of every namespace', () => {
    expect(warnings('minimesh-system', { app: 'sleep' })).toEqual([])
    expect(warnings('minimesh-system')).toEqual([])
    expect(warnings('minimesh-system', { app: 'nothing' })).toHaveLength(1)
  })

  it('says nothing when no workloads are among the inputs', () => {
    expect(analyze(policy('default', { app: 'x' })).filter((f) => f.code === C.NoMatchingWorkload)).toEqual(
      [],
    )
  })
})
