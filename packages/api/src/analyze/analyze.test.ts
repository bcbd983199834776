import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ApiErrorCode as C } from '../errors.ts'
import { type Finding, formatFinding, hasErrors } from '../finding.ts'
import { loadYaml, type SourcedObject } from '../yaml/load.ts'
import { analyze } from './index.ts'

const BOOKINFO = new URL('../testdata/bookinfo/', import.meta.url)
const fixture = (name: string) => loadYaml(readFileSync(new URL(name, BOOKINFO), 'utf8'), name).objects
const services = () => fixture('services.yaml')
const subsets = () => fixture('destination-rule-all.yaml')

/** Objects from YAML text (as file `name`); fails the test on a syntax error. */
function yaml(text: string, name = 'test.yaml'): SourcedObject[] {
  const r = loadYaml(text, name)
  expect(r.findings).toEqual([])
  return r.objects
}
const short = (fs: Finding[]) => fs.map((f) => [f.severity, f.code, `${f.namespace}/${f.name}`, f.path])

const vs = (name: string, body: string, ns = 'default') =>
  `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: ${name}\n  namespace: ${ns}\nspec:\n${body}`

describe('analyze: subsets', () => {
  it('a route to a subset no DestinationRule defines is an error at the subset field', () => {
    const text = vs(
      'reviews',
      '  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v1}\n      weight: 50\n    - destination:\n        host: reviews\n        subset: v4\n      weight: 50\n',
    )
    const f = analyze([...services(), ...subsets(), ...yaml(text, 'vs.yaml')])
    expect(short(f)).toEqual([
      ['error', C.UnknownSubset, 'default/reviews', 'spec.http[0].route[1].destination.subset'],
    ])
    expect(f[0]!.line).toBe(14)
    expect(f[0]!.message).toBe(
      'subset "v4" is not defined by DestinationRule default/reviews (destination-rule-all.yaml:12), which defines v1, v2, v3',
    )
    expect(hasErrors(f)).toBe(true)
  })

  it('without any DestinationRule for the host, says so; mirrors are checked too', () => {
    const text = vs(
      'ratings',
      '  hosts: [ratings]\n  http:\n  - route:\n    - destination: {host: ratings}\n    mirror: {host: ratings, subset: v9}\n',
    )
    const f = analyze([...services(), ...yaml(text)])
    expect(short(f)).toEqual([['error', C.UnknownSubset, 'default/ratings', 'spec.http[0].mirror.subset']])
    expect(f[0]!.message).toContain('no DestinationRule for ratings.default.svc.cluster.local')
  })

  it('matches the rule by resolved host, whichever way each names it', () => {
    const dr = `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: r, namespace: other}\nspec:\n  host: reviews.default.svc.cluster.local\n  subsets: [{name: v1, labels: {version: v1}}]\n`
    const text = vs(
      'reviews',
      '  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v1}\n',
    )
    expect(analyze([...services(), ...yaml(dr), ...yaml(text)])).toEqual([])
  })

  it('resolves short names in the namespace of the rule, not of the Service', () => {
    const text = vs(
      'reviews',
      '  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v1}\n',
      'shop',
    )
    const f = analyze([...services(), ...subsets(), ...yaml(text)])
    expect(short(f)).toEqual([
      ['warning', C.UnknownHost, 'shop/reviews', 'spec.hosts[0]'],
      ['error', C.UnknownSubset, 'shop/reviews', 'spec.http[0].route[0].destination.subset'],
      ['warning', C.UnknownHost, 'shop/reviews', 'spec.http[0].route[0].destination.host'],
    ])
    expect(f[0]!.message).toBe(
      'host "reviews" (reviews.shop.svc.cluster.local) matches no Service among the inputs',
    )
  })
})

describe('analyze: hosts', () => {
  it('warns for destinations, mesh hosts, DestinationRule and QuotaPolicy hosts that match no Service', () => {
    const text = `${vs('r', '  hosts: [reviewz]\n  http:\n  - route:\n    - destination: {host: reviews.default}\n')}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: d}
spec: {host: detailz}
---
apiVersion: policy.minimesh.dev/v1alpha1
kind: QuotaPolicy
metadata: {name: q}
spec: {hosts: [ratings, ratingz], maxAmount: 1}
`
    const f = analyze([...services(), ...yaml(text)])
    expect(short(f)).toEqual([
      ['warning', C.UnknownHost, 'default/r', 'spec.hosts[0]'],
      ['warning', C.UnknownHost, 'default/r', 'spec.http[0].route[0].destination.host'],
      ['warning', C.UnknownHost, 'default/d', 'spec.host'],
      ['warning', C.UnknownHost, 'default/q', 'spec.hosts[1]'],
    ])
    expect(f[1]!.message).toBe(
      'host "reviews.default" matches no Service among the inputs; a name with dots is taken as fully qualified: did you mean "reviews.default.svc.cluster.local"?',
    )
    expect(hasErrors(f)).toBe(false)
  })

  it('does not check the hosts of a VirtualService bound only to gateways; wildcards match by suffix', () => {
    const gw = fixture('bookinfo-gateway.yaml')
    const wild = vs(
      'w',
      '  hosts: ["*.default.svc.cluster.local"]\n  http:\n  - route:\n    - destination: {host: productpage}\n',
    )
    const noMatch = vs(
      'n',
      '  hosts: ["*.shop.svc.cluster.local"]\n  http:\n  - route:\n    - destination: {host: productpage}\n',
    )
    expect(analyze([...services(), ...gw, ...yaml(wild)])).toEqual([])
    expect(short(analyze([...services(), ...yaml(noMatch)]))).toEqual([
      ['warning', C.UnknownHost, 'default/n', 'spec.hosts[0]'],
    ])
  })
})

describe('analyze: VirtualServices for one host', () => {
  it('warns on each of two VirtualServices claiming one host for the mesh', () => {
    const a = vs('reviews-a', '  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews}\n')
    const b = vs(
      'reviews-b',
      '  hosts: [ratings, reviews.default.svc.cluster.local]\n  http:\n  - route:\n    - destination: {host: reviews}\n',
    )
    const f = analyze([...services(), ...yaml(a, 'a.yaml'), ...yaml(b, 'b.yaml')])
    expect(short(f)).toEqual([
      ['warning', C.ConflictingVirtualServices, 'default/reviews-a', 'spec.hosts[0]'],
      ['warning', C.ConflictingVirtualServices, 'default/reviews-b', 'spec.hosts[1]'],
    ])
    expect(f[0]!.message).toContain(
      'also has VirtualService default/reviews-b (b.yaml:1) for the mesh gateway',
    )
    expect(f[1]!.line).toBe(7)
  })

  it('does not count a VirtualService bound only to a gateway, or the same one given twice', () => {
    const a = vs('reviews', '  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews}\n')
    const gw = vs(
      'edge',
      '  hosts: [reviews]\n  gateways: [bookinfo-gateway]\n  http:\n  - route:\n    - destination: {host: reviews}\n',
    )
    const gateway = fixture('bookinfo-gateway.yaml').slice(0, 1)
    expect(analyze([...services(), ...gateway, ...yaml(a), ...yaml(gw)])).toEqual([])
    const f = analyze([...services(), ...yaml(a, 'one.yaml'), ...yaml(a, 'two.yaml')])
    expect(short(f)).toEqual([['warning', C.Duplicate, 'default/reviews', 'metadata.name']])
    expect(formatFinding(f[0]!)).toBe(
      'two.yaml:4 VirtualService default/reviews metadata.name: warning: VirtualService default/reviews is also defined at one.yaml:1: applied in order, the later one replaces the earlier [MESH_ERR_API_DUPLICATE]',
    )
  })
})

describe('analyze: gateways', () => {
  it('warns when a VirtualService names a Gateway that is not among the inputs', () => {
    const text = vs(
      'edge',
      '  hosts: ["bookinfo.example.com"]\n  gateways: [mesh, bookinfo-gateway, istio-system/public]\n  http:\n  - match:\n    - gateways: [other]\n    route:\n    - destination: {host: productpage}\n',
    )
    const gw = fixture('bookinfo-gateway.yaml').slice(0, 1)
    const f = analyze([...services(), ...gw, ...yaml(text)])
    expect(short(f)).toEqual([
      ['warning', C.UnknownHost, 'default/edge', 'spec.hosts[0]'],
      ['warning', C.UnknownGateway, 'default/edge', 'spec.gateways[2]'],
      ['warning', C.UnknownGateway, 'default/edge', 'spec.http[0].match[0].gateways[0]'],
    ])
    expect(f[1]!.message).toBe('Gateway "istio-system/public" (istio-system/public) is not among the inputs')
    expect(f[2]!.message).toBe('Gateway "other" (default/other) is not among the inputs')
  })
})

describe('analyze: QuotaPolicy overrides that can never match', () => {
  const policy = (spec: string) =>
    yaml(
      `apiVersion: policy.minimesh.dev/v1alpha1\nkind: QuotaPolicy\nmetadata: {name: q}\nspec:\n${spec}`,
      'q.yaml',
    )
  const dims =
    '  maxAmount: 100\n  dimensions:\n    source: source.labels["app"] | source.service | "unknown"\n    destination: destination.labels["app"] | destination.service | "unknown"\n'

  it('the Bookinfo sample is clean', () => {
    expect(analyze([...services(), ...fixture('quota-policy.yaml')])).toEqual([])
  })

  it('a dimension the policy does not define is an error at that key', () => {
    const f = analyze(
      policy(`${dims}  overrides:\n  - dimensions: {destination: ratings, user: jason}\n    maxAmount: 1\n`),
    )
    expect(short(f)).toEqual([
      ['error', C.UnreachableOverride, 'default/q', 'spec.overrides[0].dimensions.user'],
    ])
    expect(f[0]!.line).toBe(10)
    expect(f[0]!.message).toBe(
      `dimension "user" is not one of the policy's dimensions (source, destination): this override can never match`,
    )
  })

  it('an override after one with the same or fewer dimensions is shadowed', () => {
    const f = analyze(
      policy(`${dims}  overrides:
  - dimensions: {destination: ratings}
    maxAmount: 1
  - dimensions: {destination: ratings, source: reviews}
    maxAmount: 5
  - dimensions: {source: productpage}
    maxAmount: 5
  - dimensions: {source: productpage}
    maxAmount: 7
`),
    )
    expect(short(f)).toEqual([
      ['error', C.UnreachableOverride, 'default/q', 'spec.overrides[1]'],
      ['error', C.UnreachableOverride, 'default/q', 'spec.overrides[3]'],
    ])
    expect(f[0]!.message).toContain('shadowed by overrides[0] ({"destination":"ratings"})')
    expect(f[1]!.message).toContain('shadowed by overrides[2]')
  })

  it('an override that can never match does not shadow later ones', () => {
    const f = analyze(
      policy(
        `${dims}  overrides:\n  - dimensions: {nope: x}\n    maxAmount: 1\n  - dimensions: {destination: ratings, nope: x}\n    maxAmount: 1\n  - dimensions: {destination: ratings}\n    maxAmount: 1\n`,
      ),
    )
    expect(short(f)).toEqual([
      ['error', C.UnreachableOverride, 'default/q', 'spec.overrides[0].dimensions.nope'],
      ['error', C.UnreachableOverride, 'default/q', 'spec.overrides[1].dimensions.nope'],
    ])
  })

  it('a value impossible for the policy hosts is a warning (from the Services’ selectors)', () => {
    const p = policy(
      `  hosts: [ratings]\n${dims}  overrides:\n  - dimensions: {destination: ratings}\n    maxAmount: 1\n  - dimensions: {destination: reviews}\n    maxAmount: 1\n`,
    )
    const f = analyze([...services(), ...p])
    expect(short(f)).toEqual([
      ['warning', C.UnreachableOverride, 'default/q', 'spec.overrides[1].dimensions.destination'],
    ])
    expect(f[0]!.message).toBe(
      `"reviews" is impossible for dimension "destination" (destination.labels["app"] | destination.service | "unknown") given hosts ratings: it can only be "ratings", so this override can never match`,
    )
    // Without the Services, the pods' labels are unknown: no finding.
    expect(analyze(p).filter((x) => x.code === C.UnreachableOverride)).toEqual([])
  })

  it('infers values from destination.service, destination.namespace and literals', () => {
    const f = analyze(
      policy(`  hosts: [ratings, reviews.default.svc.cluster.local]
  maxAmount: 1
  dimensions:
    dest: destination.service
    ns: destination.namespace
    fixed: '"all"'
    who: source.service | "anonymous"
  overrides:
  - dimensions: {dest: reviews, ns: default, fixed: all, who: anyone}
    maxAmount: 2
  - dimensions: {dest: details}
    maxAmount: 2
  - dimensions: {ns: shop}
    maxAmount: 2
  - dimensions: {fixed: some}
    maxAmount: 2
`),
    )
    expect(short(f).filter((x) => x[1] === C.UnreachableOverride)).toEqual([
      ['warning', C.UnreachableOverride, 'default/q', 'spec.overrides[1].dimensions.dest'],
      ['warning', C.UnreachableOverride, 'default/q', 'spec.overrides[2].dimensions.ns'],
      ['warning', C.UnreachableOverride, 'default/q', 'spec.overrides[3].dimensions.fixed'],
    ])
  })
})

describe('analyze: QuotaPolicy hosts', () => {
  it('warns for a host in another namespace, which the policy never limits', () => {
    const q = yaml(
      'apiVersion: policy.minimesh.dev/v1alpha1\nkind: QuotaPolicy\nmetadata: {name: q, namespace: default}\nspec:\n  hosts: [ratings, ratings.shop.svc.cluster.local]\n  maxAmount: 1\n',
    )
    const shop = yaml(
      'apiVersion: v1\nkind: Service\nmetadata: {name: ratings, namespace: shop}\nspec: {selector: {app: ratings}}\n',
    )
    const f = analyze([...services(), ...shop, ...q])
    expect(short(f)).toEqual([['warning', C.QuotaHostNamespace, 'default/q', 'spec.hosts[1]']])
  })

  it('an expression that may be absent can take the empty value', () => {
    const q = yaml(`apiVersion: policy.minimesh.dev/v1alpha1
kind: QuotaPolicy
metadata: {name: q}
spec:
  maxAmount: 1
  dimensions: {d: '"x" | destination.service', e: 'destination.namespace'}
  overrides:
  - {dimensions: {e: ''}, maxAmount: 1}
  - {dimensions: {d: x, e: default}, maxAmount: 1}
`)
    expect(short(analyze(q))).toEqual([
      ['warning', C.UnreachableOverride, 'default/q', 'spec.overrides[0].dimensions.e'],
    ])
  })
})

describe('analyze', () => {
  it('also validates every object, and lists findings by input, then line', () => {
    const text = `${vs('a', '  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v7}\n    timeout: soon\n')}`
    const f = analyze([...services(), ...subsets(), ...yaml(text, 'a.yaml')])
    expect(f.map(formatFinding)).toEqual([
      'a.yaml:10 VirtualService default/a spec.http[0].route[0].destination.subset: subset "v7" is not defined by DestinationRule default/reviews (destination-rule-all.yaml:12), which defines v1, v2, v3 [MESH_ERR_API_UNKNOWN_SUBSET]',
      'a.yaml:11 VirtualService default/a spec.http[0].timeout: "soon" is not a duration (use e.g. "7s", "0.5s", "100ms", "1m", "1h") [MESH_ERR_API_DURATION]',
    ])
  })

  it('takes plain objects and a default namespace', () => {
    const f = analyze(
      [
        {
          apiVersion: 'networking.istio.io/v1',
          kind: 'VirtualService',
          metadata: { name: 'x' },
          spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews' } }] }] },
        },
      ],
      { defaultNamespace: 'shop' },
    )
    expect(f.map(formatFinding)).toEqual([
      'VirtualService shop/x spec.hosts[0]: warning: host "reviews" (reviews.shop.svc.cluster.local) matches no Service among the inputs [MESH_ERR_API_UNKNOWN_HOST]',
      'VirtualService shop/x spec.http[0].route[0].destination.host: warning: host "reviews" (reviews.shop.svc.cluster.local) matches no Service among the inputs [MESH_ERR_API_UNKNOWN_HOST]',
    ])
  })

  it('survives objects of any shape (their validation errors are the findings)', () => {
    const junk = [
      { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'a' }, spec: 'x' },
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: 'm',
        spec: {
          hosts: [1, null],
          gateways: {},
          http: [null, { route: 5, mirror: [], match: [null, { gateways: 'g' }] }],
        },
      },
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: {},
        spec: { host: 3, subsets: [null, { name: 1 }] },
      },
      {
        apiVersion: 'policy.minimesh.dev/v1alpha1',
        kind: 'QuotaPolicy',
        metadata: { name: 'q' },
        spec: { dimensions: [1], overrides: [null, { dimensions: 'x' }] },
      },
      { apiVersion: 'v1', kind: 'Service', metadata: null, spec: { selector: [1] } },
    ]
    const f = analyze(junk)
    expect(f.length).toBeGreaterThan(5)
    expect(f.every((x) => x.severity === 'error' || x.severity === 'warning')).toBe(true)
  })
})

describe('analyze: PeerAuthentication', () => {
  const pa = (name: string, ns: string, body: string) =>
    `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: ${name}, namespace: ${ns}}\nspec:\n${body}`
  const deploy = (app: string) =>
    `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ${app}, namespace: default}\nspec:\n  selector: {matchLabels: {app: ${app}}}\n  template:\n    metadata: {labels: {app: ${app}}}\n    spec: {containers: [{name: c, image: x}]}\n`

  it('a selector matching no workload among the inputs is a warning; one that matches is fine', () => {
    const f = analyze([
      ...yaml(deploy('reviews')),
      ...yaml(pa('ok', 'default', '  selector: {matchLabels: {app: reviews}}\n  mtls: {mode: STRICT}\n')),
      ...yaml(
        pa('typo', 'default', '  selector:\n    matchLabels: {app: reveiws}\n  mtls: {mode: STRICT}\n'),
      ),
    ])
    expect(short(f)).toEqual([['warning', C.NoMatchingWorkload, 'default/typo', 'spec.selector.matchLabels']])
    expect(hasErrors(f)).toBe(false)
  })

  it('without workloads among the inputs nothing is said about selectors; root namespace selectors are ignored', () => {
    const f = analyze([
      ...yaml(pa('w', 'default', '  selector: {matchLabels: {app: x}}\n')),
      ...yaml(pa('root', 'minimesh-system', '  selector: {matchLabels: {app: x}}\n')),
    ])
    expect(short(f)).toEqual([['warning', C.NoMatchingWorkload, 'minimesh-system/root', 'spec.selector']])
  })

  it('a DestinationRule with tls DISABLE to a service whose namespace is STRICT is a warning', () => {
    const dr = `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: r, namespace: default}\nspec:\n  host: reviews\n  trafficPolicy:\n    tls: {mode: DISABLE}\n`
    const strict = pa('default', 'default', '  mtls: {mode: STRICT}\n')
    const f = analyze([...services(), ...yaml(strict), ...yaml(dr)])
    expect(short(f)).toEqual([['warning', C.MtlsConflict, 'default/r', 'spec.trafficPolicy.tls.mode']])
    expect(f[0]!.message).toContain('PeerAuthentication default/default')
    // PERMISSIVE at the workload overrides the namespace: no conflict.
    const permissive = pa(
      'reviews',
      'default',
      '  selector: {matchLabels: {app: reviews}}\n  mtls: {mode: PERMISSIVE}\n',
    )
    expect(analyze([...services(), ...yaml(strict), ...yaml(permissive), ...yaml(dr)])).toEqual([])
  })
})
