import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { analyze } from './analyze/index.ts'
import { ApiErrorCode as C } from './errors.ts'
import { formatFinding } from './finding.ts'
import { validateObject } from './validate.ts'
import { loadYaml } from './yaml/load.ts'

const BOOKINFO = new URL('./testdata/bookinfo/', import.meta.url)
const load = (name: string) => {
  const r = loadYaml(readFileSync(new URL(name, BOOKINFO), 'utf8'), name)
  expect(r.findings).toEqual([])
  return r.objects
}
/** Everything a routing sample needs around it: the Services and the subsets. */
const context = () => [
  ...load('services.yaml'),
  ...load('httpbin-service.yaml'),
  ...load('destination-rule-all.yaml'),
]

describe('Bookinfo traffic-management samples', () => {
  const samples = readdirSync(BOOKINFO).filter((f) => f.endsWith('.yaml'))

  it('has a fixture for every task page config', () => {
    for (const f of [
      'virtual-service-all-v1.yaml',
      'virtual-service-reviews-test-v2.yaml',
      'virtual-service-reviews-50-v3.yaml',
      'virtual-service-reviews-90-10.yaml',
      'virtual-service-reviews-80-20.yaml',
      'virtual-service-ratings-test-delay.yaml',
      'virtual-service-ratings-test-abort.yaml',
      'destination-rule-all.yaml',
      'destination-rule-circuit-breaker.yaml',
      'virtual-service-reviews-timeout.yaml',
    ])
      expect(samples).toContain(f)
  })

  it.each(samples)('%s validates clean', (file) => {
    const objects = load(file)
    expect(objects.length).toBeGreaterThan(0)
    expect(objects.flatMap((o) => validateObject(o)).map(formatFinding)).toEqual([])
  })

  it.each(samples)('%s analyzes clean with the Bookinfo Services and subsets', (file) => {
    const ctx = context().filter((o) => o.file !== file)
    expect(analyze([...ctx, ...load(file)]).map(formatFinding)).toEqual([])
  })

  it('the 0.5 s timeout and the 7 s delay are what the samples say', () => {
    const [reviews] = load('virtual-service-reviews-timeout.yaml')
    expect((reviews!.object.spec as { http: { timeout: string }[] }).http[0]!.timeout).toBe('0.5s')
    const [ratings] = load('virtual-service-ratings-test-delay.yaml')
    const fault = (ratings!.object.spec as { http: { fault: { delay: { fixedDelay: string } } }[] }).http[0]!
      .fault
    expect(fault.delay.fixedDelay).toBe('7s')
  })
})

const HEAD = {
  vs: 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\n',
  dr: 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: reviews\n',
  gw: 'apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: gw\n',
  qp: 'apiVersion: policy.minimesh.dev/v1alpha1\nkind: QuotaPolicy\nmetadata:\n  name: q\n',
  pa: 'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: pa\n',
}
/** A VirtualService for reviews whose first http route is `route` (indented under `- `). */
const route = (r: string) =>
  `${HEAD.vs}spec:\n  hosts: [reviews]\n  http:\n  - ${r.trim().replace(/\n/g, '\n    ')}\n`
const dest = 'route:\n- destination: {host: reviews}'

/**
 * Invalid documents, each with the one finding expected (code and field path). A line ending in
 * `# <-` is where the finding must point.
 */
const INVALID: [name: string, yaml: string, expected: [code: string, path: string][]][] = [
  ['unknown field', route(`${dest}\nretry: {attempts: 3} # <-`), [[C.UnknownField, 'spec.http[0].retry']]],
  ['unknown top-level field', `${route(dest)}extra: {} # <-\n`, [[C.UnknownField, 'extra']]],
  [
    'unimplemented corsPolicy',
    route(`${dest}\ncorsPolicy: # <-\n  allowOrigins: [{exact: x}]`),
    [[C.Unimplemented, 'spec.http[0].corsPolicy']],
  ],
  [
    'unimplemented tcp routes',
    `${HEAD.vs}spec:\n  hosts: [reviews]\n  http:\n  - ${dest.replace('\n', '\n    ')}\n  tcp: [] # <-\n`,
    [[C.Unimplemented, 'spec.tcp']],
  ],
  [
    'unimplemented delegate',
    route(`${dest}\ndelegate: {name: x} # <-`),
    [[C.Unimplemented, 'spec.http[0].delegate']],
  ],
  [
    'DR tls ISTIO_MUTUAL with its own CA file',
    `${HEAD.dr}spec:\n  host: reviews\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL\n      caCertificates: /etc/ca.pem # <-\n`,
    [[C.OneOf, 'spec.trafficPolicy.tls.caCertificates']],
  ],
  [
    'PeerAuthentication portLevelMtls without a selector',
    `${HEAD.pa}spec:\n  mtls: {mode: STRICT}\n  portLevelMtls: # <-\n    8080: {mode: DISABLE}\n`,
    [[C.Required, 'spec.portLevelMtls']],
  ],
  [
    'PeerAuthentication portLevelMtls key not a port',
    `${HEAD.pa}spec:\n  selector: {matchLabels: {app: a}}\n  portLevelMtls:\n    http: {mode: DISABLE} # <-\n`,
    [[C.Pattern, 'spec.portLevelMtls.http']],
  ],
  [
    'PeerAuthentication unknown mode',
    `${HEAD.pa}spec:\n  mtls: {mode: OPTIONAL} # <-\n`,
    [[C.Enum, 'spec.mtls.mode']],
  ],
  [
    'PeerAuthentication empty selector',
    `${HEAD.pa}spec:\n  selector: {} # <-\n  mtls: {mode: STRICT}\n`,
    [[C.Required, 'spec.selector.matchLabels']],
  ],
  [
    'DR tls credentialName',
    `${HEAD.dr}spec:\n  host: reviews\n  trafficPolicy:\n    tls:\n      mode: SIMPLE\n      credentialName: reviews-ca # <-\n`,
    [[C.Unimplemented, 'spec.trafficPolicy.tls.credentialName']],
  ],
  [
    'DR tls MUTUAL without a private key',
    `${HEAD.dr}spec:\n  host: reviews\n  subsets:\n  - name: v1\n    trafficPolicy:\n      tls: # <-\n        mode: MUTUAL\n        clientCertificate: /etc/certs/client.pem\n`,
    [[C.Required, 'spec.subsets[0].trafficPolicy.tls.privateKey']],
  ],
  [
    'DR tls MUTUAL without a client certificate (port level)',
    `${HEAD.dr}spec:\n  host: reviews\n  trafficPolicy:\n    portLevelSettings:\n    - port: {number: 9080}\n      tls: # <-\n        mode: MUTUAL\n        privateKey: /etc/certs/key.pem\n`,
    [[C.Required, 'spec.trafficPolicy.portLevelSettings[0].tls.clientCertificate']],
  ],
  [
    'DR tls subjectAltNames as a string',
    `${HEAD.dr}spec:\n  host: reviews\n  trafficPolicy:\n    tls:\n      mode: SIMPLE\n      subjectAltNames: reviews # <-\n`,
    [[C.Type, 'spec.trafficPolicy.tls.subjectAltNames']],
  ],
  [
    'DR portLevelSettings twice for one port',
    `${HEAD.dr}spec:\n  host: reviews\n  trafficPolicy:\n    portLevelSettings:\n    - port: {number: 9080}\n    - port: {number: 9080} # <-\n`,
    [[C.Duplicate, 'spec.trafficPolicy.portLevelSettings[1]']],
  ],
  [
    'unimplemented Gateway tls mode PASSTHROUGH',
    `${HEAD.gw}spec:\n  servers:\n  - port: {number: 443, protocol: HTTPS}\n    hosts: ["*"]\n    tls: {mode: PASSTHROUGH} # <-\n`,
    [[C.Unimplemented, 'spec.servers[0].tls.mode']],
  ],
  [
    'weight as a string',
    route('route:\n- destination: {host: reviews}\n  weight: "50" # <-'),
    [[C.Type, 'spec.http[0].route[0].weight']],
  ],
  [
    'hosts as a string',
    `${HEAD.vs}spec:\n  hosts: reviews # <-\n  http:\n  - ${dest.replace('\n', '\n    ')}\n`,
    [[C.Type, 'spec.hosts']],
  ],
  ['timeout without a unit', route(`${dest}\ntimeout: "10" # <-`), [[C.Duration, 'spec.http[0].timeout']]],
  ['timeout as a number', route(`${dest}\ntimeout: 10 # <-`), [[C.Duration, 'spec.http[0].timeout']]],
  [
    'fixedDelay with a space',
    route(`${dest}\nfault:\n  delay:\n    fixedDelay: 7 s # <-`),
    [[C.Duration, 'spec.http[0].fault.delay.fixedDelay']],
  ],
  [
    'negative perTryTimeout',
    route(`${dest}\nretries: {attempts: 2, perTryTimeout: -1s} # <-`),
    [[C.Duration, 'spec.http[0].retries.perTryTimeout']],
  ],
  [
    'bad DR interval',
    `${HEAD.dr}spec:\n  host: reviews\n  trafficPolicy:\n    outlierDetection: {interval: 1x} # <-\n`,
    [[C.Duration, 'spec.trafficPolicy.outlierDetection.interval']],
  ],
  [
    'invalid uri regex',
    route(`match:\n- uri: {regex: "/api/(v1"} # <-\n${dest}`),
    [[C.Regex, 'spec.http[0].match[0].uri.regex']],
  ],
  [
    'invalid header regex',
    route(`match:\n- headers:\n    x-user: {regex: "[a-"} # <-\n${dest}`),
    [[C.Regex, 'spec.http[0].match[0].headers.x-user.regex']],
  ],
  [
    'negative weight',
    route(
      'route:\n- destination: {host: reviews, subset: v1}\n  weight: 110\n- destination: {host: reviews, subset: v2}\n  weight: -10 # <-',
    ),
    [[C.Range, 'spec.http[0].route[1].weight']],
  ],
  [
    'all-zero weights',
    route(
      'route: # <-\n- destination: {host: reviews, subset: v1}\n  weight: 0\n- destination: {host: reviews, subset: v2}\n  weight: 0',
    ),
    [[C.Weight, 'spec.http[0].route']],
  ],
  [
    'several destinations, no weights',
    route('route:\n- destination: {host: reviews, subset: v1}\n- destination: {host: reviews, subset: v2}'),
    [[C.Weight, 'spec.http[0].route']],
  ],
  [
    'duplicate subset names',
    `${HEAD.dr}spec:\n  host: reviews\n  subsets:\n  - name: v1\n  - name: v2\n  - name: v1 # <-\n`,
    [[C.Duplicate, 'spec.subsets[2]']],
  ],
  [
    'delay percentage over 100',
    route(`${dest}\nfault:\n  delay:\n    fixedDelay: 1s\n    percentage: {value: 150} # <-`),
    [[C.Range, 'spec.http[0].fault.delay.percentage.value']],
  ],
  [
    'abort percentage below 0',
    route(`${dest}\nfault:\n  abort:\n    httpStatus: 500\n    percentage: {value: -1}`),
    [[C.Range, 'spec.http[0].fault.abort.percentage.value']],
  ],
  [
    'mirror percentage over 100',
    route(`${dest}\nmirror: {host: reviews}\nmirrorPercentage: {value: 100.5}`),
    [[C.Range, 'spec.http[0].mirrorPercentage.value']],
  ],
  [
    'maxEjectionPercent over 100',
    `${HEAD.dr}spec:\n  host: reviews\n  trafficPolicy:\n    outlierDetection: {maxEjectionPercent: 101}\n`,
    [[C.Range, 'spec.trafficPolicy.outlierDetection.maxEjectionPercent']],
  ],
  [
    'abort status out of range',
    route(`${dest}\nfault:\n  abort: {httpStatus: 700}`),
    [[C.Range, 'spec.http[0].fault.abort.httpStatus']],
  ],
  [
    'exact and prefix together',
    route(`match:\n- uri: {exact: /a, prefix: /b} # <-\n${dest}`),
    [[C.OneOf, 'spec.http[0].match[0].uri']],
  ],
  ['route and redirect together', route(`${dest}\nredirect: {uri: /x}`), [[C.OneOf, 'spec.http[0]']]],
  ['no action at all', route('name: nothing'), [[C.OneOf, 'spec.http[0]']]],
  [
    'destination without host',
    route('route:\n- destination: {subset: v1} # <-'),
    [[C.Required, 'spec.http[0].route[0].destination.host']],
  ],
  [
    'no hosts',
    `${HEAD.vs}spec: # <-\n  http:\n  - ${dest.replace('\n', '\n    ')}\n`,
    [[C.Required, 'spec.hosts']],
  ],
  ['no http routes', `${HEAD.vs}spec:\n  hosts: [reviews]\n  http: [] # <-\n`, [[C.Required, 'spec.http']]],
  [
    'upper-case name',
    HEAD.vs.replace('name: reviews', 'name: Reviews # <-') +
      'spec:\n  hosts: [r]\n  http: [{route: [{destination: {host: r}}]}]\n',
    [[C.Pattern, 'metadata.name']],
  ],
  [
    'misspelt metadata field',
    HEAD.vs.replace('  name: reviews', '  nmae: reviews # <-') +
      'spec:\n  hosts: [r]\n  http: [{route: [{destination: {host: r}}]}]\n',
    [
      [C.UnknownField, 'metadata.nmae'],
      [C.Required, 'metadata.name'],
    ],
  ],
  [
    'unknown retryOn condition',
    route(`${dest}\nretries: {attempts: 1, retryOn: "5xx,bogus"}`),
    [[C.Pattern, 'spec.http[0].retries.retryOn']],
  ],
  [
    'port out of range',
    route('route:\n- destination:\n    host: reviews\n    port: {number: 70000} # <-'),
    [[C.Range, 'spec.http[0].route[0].destination.port.number']],
  ],
  [
    'load balancer Istio does not have',
    `${HEAD.dr}spec:\n  host: reviews\n  trafficPolicy:\n    loadBalancer: {simple: FASTEST}\n`,
    [[C.Enum, 'spec.trafficPolicy.loadBalancer.simple']],
  ],
  [
    'subset label that is not a string',
    `${HEAD.dr}spec:\n  host: reviews\n  subsets:\n  - name: v1\n    labels: {version: 1} # <-\n`,
    [[C.Type, 'spec.subsets[0].labels.version']],
  ],
  [
    'zero pending requests',
    `${HEAD.dr}spec:\n  host: reviews\n  trafficPolicy:\n    connectionPool:\n      http: {http1MaxPendingRequests: 0}\n`,
    [[C.Range, 'spec.trafficPolicy.connectionPool.http.http1MaxPendingRequests']],
  ],
  [
    'TLS (passthrough) gateway server',
    `${HEAD.gw}spec:\n  servers:\n  - port: {number: 443, protocol: TLS} # <-\n    hosts: ["*"]\n`,
    [[C.Unimplemented, 'spec.servers[0].port.protocol']],
  ],
  [
    'gateway without servers',
    `${HEAD.gw}spec: {selector: {istio: ingressgateway}}\n`,
    [[C.Required, 'spec.servers']],
  ],
  [
    'bad quota expression',
    `${HEAD.qp}spec:\n  maxAmount: 10\n  dimensions:\n    source: source.labels[app] | "x" # <-\n`,
    [[C.Expression, 'spec.dimensions.source']],
  ],
  ['negative maxAmount', `${HEAD.qp}spec:\n  maxAmount: -1 # <-\n`, [[C.Range, 'spec.maxAmount']]],
  [
    'bad quota validDuration',
    `${HEAD.qp}spec:\n  maxAmount: 1\n  validDuration: 1 second\n`,
    [[C.Duration, 'spec.validDuration']],
  ],
  [
    'override without maxAmount',
    `${HEAD.qp}spec:\n  maxAmount: 1\n  overrides:\n  - dimensions: {destination: ratings} # <-\n`,
    [[C.Required, 'spec.overrides[0].maxAmount']],
  ],
  [
    'Istio kind minimesh does not implement',
    'apiVersion: networking.istio.io/v1\nkind: ServiceEntry # <-\nmetadata: {name: x}\nspec: {}\n',
    [[C.Kind, 'kind']],
  ],
  [
    'Istio telemetry kind',
    'apiVersion: telemetry.istio.io/v1\nkind: Telemetry # <-\nmetadata: {name: x}\n',
    [[C.Kind, 'kind']],
  ],
  [
    'version that is not served',
    'apiVersion: networking.istio.io/v2 # <-\nkind: VirtualService\nmetadata: {name: x}\n',
    [[C.Kind, 'apiVersion']],
  ],
  ['not a Kubernetes object', 'kind: VirtualService # <-\nspec: {}\n', [[C.Required, 'apiVersion']]],
]

describe('validateObject: invalid documents', () => {
  it('has at least 30 cases', () => expect(INVALID.length).toBeGreaterThanOrEqual(30))

  it.each(INVALID)('%s', (_name, yaml, expected) => {
    const { objects, findings } = loadYaml(yaml, 'bad.yaml')
    expect(findings).toEqual([])
    expect(objects).toHaveLength(1)
    const got = validateObject(objects[0]!)
    expect(got.map((f) => [f.code, f.path])).toEqual(expected)
    const marked = yaml.split('\n').findIndex((l) => l.endsWith('# <-'))
    if (marked >= 0) expect(got[0]!.line).toBe(marked + 1)
    for (const f of got) expect(f).toMatchObject({ severity: 'error', file: 'bad.yaml' })
  })
})

describe('validateObject: retryOn', () => {
  it("accepts Istio's gRPC conditions beside the HTTP ones", () => {
    const yaml = route(
      `${dest}\nretries: {attempts: 2, retryOn: "unavailable,cancelled,deadline-exceeded,internal,resource-exhausted,5xx,503"}`,
    )
    const { objects } = loadYaml(yaml, 'ok.yaml')
    expect(validateObject(objects[0]!)).toEqual([])
  })
})

describe('findings', () => {
  it('name the file, line, kind, namespace/name, field path, reason and code', () => {
    const yaml = `${HEAD.vs}  namespace: shop\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews}\n    timeout: 10\n`
    const [f] = validateObject(loadYaml(yaml, 'shop/reviews.yaml').objects[0]!)
    expect(formatFinding(f!)).toBe(
      'shop/reviews.yaml:11 VirtualService shop/reviews spec.http[0].timeout: expected a duration string with a unit, got the number 10 (write e.g. "10s") [MESH_ERR_API_DURATION]',
    )
  })

  it('works on plain objects (no file or line)', () => {
    const f = validateObject({
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'r' },
      spec: { host: 'r', subsets: [{ name: 'a' }, { name: 'a' }] },
    })
    expect(f.map(formatFinding)).toEqual([
      'DestinationRule default/r spec.subsets[1]: duplicate subset name "a" (first at [0]) [MESH_ERR_API_DUPLICATE]',
    ])
  })

  it('do not concern kinds that are not minimesh’s', () => {
    expect(validateObject({ apiVersion: 'apps/v1', kind: 'Deployment', spec: { anything: 1 } })).toEqual([])
  })
})

describe('validateObject: PeerAuthentication (Istio reference examples)', () => {
  const docs = [
    'spec:\n  mtls: {mode: STRICT}\n',
    'spec:\n  selector: {matchLabels: {app: finance}}\n  mtls: {mode: STRICT}\n  portLevelMtls:\n    8080: {mode: DISABLE}\n',
    'spec:\n  selector: {matchLabels: {app: finance}}\n  mtls: {mode: UNSET}\n  portLevelMtls:\n    "8080": {mode: DISABLE}\n',
    'spec: {}\n',
  ]
  it.each(docs)('%s is valid (v1 and v1beta1)', (spec) => {
    for (const v of ['v1', 'v1beta1']) {
      const yaml = `apiVersion: security.istio.io/${v}\nkind: PeerAuthentication\nmetadata: {name: pa, namespace: foo}\n${spec}`
      const { objects } = loadYaml(yaml, 'pa.yaml')
      expect(validateObject(objects[0]!)).toEqual([])
    }
  })
})
