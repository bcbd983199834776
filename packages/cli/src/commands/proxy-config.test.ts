// meshctl proxy-config against a real mesh-proxy process (static configuration, admin on a free
// port): the tables show what the proxy serves; -o json gives the admin's own JSON.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../run.ts'
import { KERNEL_PORTS, type Proc, startProxy, stop } from '../testdata/mesh.ts'
import { recordingIo as io } from '../testdata/meshctl.ts'
import { expiresIn, secretTable } from './proxy-config.ts'

/** The proxy package's test certificate service, loaded by path as mesh-proxy is run by path. */
const TEST_CA = fileURLToPath(new URL('../../../proxy/src/testdata/test-ca.ts', import.meta.url))

interface TestCertificateServer {
  rootPem: string
  address: string
  issued: { serial: string }[]
  start(): Promise<void>
  stop(): void
}

const config = {
  listeners: [
    {
      name: '0.0.0.0_8080',
      trafficDirection: 'GATEWAY',
      address: '0.0.0.0',
      port: 8080,
      bindToPort: true,
      filterChains: [{ name: 'http', http: { routeConfigName: 'http.8080' } }],
    },
  ],
  routes: [
    {
      name: 'http.8080',
      virtualHosts: [
        {
          name: 'bookinfo:8080',
          domains: ['bookinfo.example', 'bookinfo.example:8080', '198.19.0.9'],
          routes: [
            {
              name: 'default/reviews-jason',
              match: {
                path: { prefix: '/reviews' },
                headers: [{ name: 'end-user', match: { exact: 'jason' } }],
              },
              route: {
                clusters: [{ name: 'outbound|9080|v2|reviews.default.svc.cluster.local', weight: 1 }],
              },
            },
            {
              name: 'default/reviews',
              match: { path: { prefix: '/' } },
              route: {
                clusters: [
                  { name: 'outbound|9080|v1|reviews.default.svc.cluster.local', weight: 75 },
                  { name: 'outbound|9080|v2|reviews.default.svc.cluster.local', weight: 25 },
                ],
              },
            },
          ],
        },
      ],
    },
  ],
  clusters: ['v1', 'v2'].map((v) => ({
    name: `outbound|9080|${v}|reviews.default.svc.cluster.local`,
    type: 'EDS',
    protocol: 'http',
    lbPolicy: 'ROUND_ROBIN',
    connectTimeoutMs: 1000,
    ...(v === 'v1' ? { tls: { mode: 'SIMPLE' as const, insecureSkipVerify: true } } : {}),
    service: {
      host: 'reviews.default.svc.cluster.local',
      name: 'reviews',
      namespace: 'default',
      port: 9080,
      subset: v,
    },
  })),
  endpoints: [
    {
      clusterName: 'outbound|9080|v1|reviews.default.svc.cluster.local',
      endpoints: [{ address: '127.0.0.21', port: 9080, health: 'HEALTHY' }],
    },
    {
      clusterName: 'outbound|9080|v2|reviews.default.svc.cluster.local',
      endpoints: [{ address: '127.0.0.22', port: 9080, health: 'UNHEALTHY' }],
    },
  ],
}

describe('meshctl proxy-config', () => {
  let proxy: Proc | undefined
  let admin = ''

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'proxy-config-'))
    const file = join(dir, 'config.json')
    writeFileSync(file, JSON.stringify(config))
    const started = await startProxy([
      'router',
      '--config',
      file,
      ...KERNEL_PORTS,
      '--port-map',
      '8080=0',
      '--bind-address',
      '127.0.0.1',
    ])
    proxy = started
    admin = started.admin
  })
  afterAll(() => stop(proxy))

  it('routes', async () => {
    const t = io()
    expect(await runCli(['proxy-config', 'routes', '--admin', admin], t.io)).toBe(0)
    expect(t.out.join('')).toBe(
      [
        'ROUTE CONFIG   VIRTUAL HOST    DOMAINS                                           MATCH                      DESTINATION                                                                                                      NAME',
        'http.8080      bookinfo:8080   bookinfo.example, bookinfo.example:8080 +1 more   /reviews* end-user=jason   outbound|9080|v2|reviews.default.svc.cluster.local                                                               default/reviews-jason',
        'http.8080      bookinfo:8080   bookinfo.example, bookinfo.example:8080 +1 more   /*                         outbound|9080|v1|reviews.default.svc.cluster.local 75%, outbound|9080|v2|reviews.default.svc.cluster.local 25%   default/reviews',
        '',
      ].join('\n'),
    )
  })

  it('listeners', async () => {
    const t = io()
    expect(await runCli(['proxy-config', 'listeners', `--admin=${admin}`], t.io)).toBe(0)
    expect(t.out.join('')).toBe(
      [
        'NAME           ADDRESS   PORT   DIRECTION   BOUND   MATCH   DESTINATION',
        '0.0.0.0_8080   0.0.0.0   8080   GATEWAY     yes     ALL     Route: http.8080',
        '',
      ].join('\n'),
    )
  })

  it('clusters and endpoints', async () => {
    const t = io()
    expect(await runCli(['proxy-config', 'clusters', '--admin', admin], t.io)).toBe(0)
    const lines = t.out.join('').split('\n')
    expect(lines[0]).toMatch(/^NAME\s+SERVICE FQDN\s+PORT\s+SUBSET\s+TYPE\s+LB POLICY\s+TLS\s+ENDPOINTS$/)
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^outbound\|9080\|v2\|reviews\.default\.svc\.cluster\.local\s+reviews\.default\.svc\.cluster\.local\s+9080\s+v2\s+EDS\s+ROUND_ROBIN\s+DISABLE\s+1$/,
      ),
    )
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^outbound\|9080\|v1\|reviews\S+\s+\S+\s+9080\s+v1\s+EDS\s+ROUND_ROBIN\s+SIMPLE\s+1$/,
      ),
    )
    expect(lines).toContainEqual(expect.stringMatching(/^PassthroughCluster\s+-\s+-\s+-\s+ORIGINAL_DST/))
    const e = io()
    expect(await runCli(['proxy-config', 'endpoints', '--admin', admin], e.io)).toBe(0)
    const out = e.out.join('')
    expect(out).toMatch(/127\.0\.0\.21:9080\s+HEALTHY\s+OK\s+outbound\|9080\|v1\|reviews/)
    expect(out).toMatch(/127\.0\.0\.22:9080\s+UNHEALTHY\s+OK\s+outbound\|9080\|v2\|reviews/)
  })

  it('-o json prints the admin JSON', async () => {
    const t = io()
    expect(await runCli(['proxy-config', 'routes', '--admin', admin, '-o', 'json'], t.io)).toBe(0)
    expect(JSON.parse(t.out.join(''))).toEqual(config.routes)
  })

  it('says what to do when the admin is unreachable, and checks its arguments', async () => {
    const t = io()
    expect(await runCli(['proxy-config', 'routes', '--admin', '127.0.0.1:1'], t.io)).toBe(1)
    expect(t.err.join('')).toMatch(
      /cannot reach the proxy admin at http:\/\/127\.0\.0\.1:1\/config_dump .*name one: meshctl proxy-config routes POD\[\.NAMESPACE\] or deploy\/NAME .*\[MESH_ERR_CLI_PROXY_ADMIN\]/,
    )
    const u = io()
    expect(await runCli(['proxy-config', 'secrets'], u.io)).toBe(2)
    expect(u.err.join('')).toContain('unexpected argument secrets')
  })

  it('secret: a proxy without a mesh CA has no workload certificate', async () => {
    const t = io()
    expect(await runCli(['proxy-config', 'secret', '--admin', admin], t.io)).toBe(0)
    expect(t.out.join('')).toBe(
      'no workload certificate: this proxy has no mesh CA configured (MESH_CA_ROOT_CERT)\n',
    )
  })
})

// A mesh-proxy that got its certificate from a test certificate service (real gRPC over TLS, the
// proxy package's stand-in for meshd's CA).
describe('meshctl proxy-config secret', () => {
  let proxy: Proc | undefined
  let ca: TestCertificateServer
  let admin = ''

  beforeAll(async () => {
    const { TestCertificateServer } = (await import(TEST_CA)) as {
      TestCertificateServer: new (o: { tokens: Record<string, string> }) => TestCertificateServer
    }
    ca = new TestCertificateServer({ tokens: { 't-reviews': 'default/reviews' } })
    await ca.start()
    const dir = mkdtempSync(join(tmpdir(), 'proxy-config-secret-'))
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config))
    writeFileSync(join(dir, 'token'), 't-reviews')
    const started = await startProxy(
      [
        'router',
        ...['--config', join(dir, 'config.json'), ...KERNEL_PORTS, '--port-map', '8080=0'],
        ...['--bind-address', '127.0.0.1'],
        ...['--ca-address', ca.address, `--ca-root-cert=${ca.rootPem}`, '--token-file', join(dir, 'token')],
        ...['--workload-cert-ttl', '2h'],
      ],
      { POD_NAMESPACE: 'default', SERVICE_ACCOUNT: 'reviews' },
    )
    const { ports } = started
    proxy = started
    admin = started.admin
    // Ready means the configuration and the first certificate are in.
    const deadline = Date.now() + 10_000
    while ((await fetch(`http://127.0.0.1:${ports.health}/healthz/ready`)).status !== 200) {
      if (Date.now() > deadline) throw new Error('mesh-proxy did not become ready')
      await new Promise((r) => setTimeout(r, 50))
    }
  })
  afterAll(() => {
    stop(proxy)
    ca.stop()
  })

  it('prints the identity, the chain and the roots with their expiry', async () => {
    const t = io()
    expect(await runCli(['proxy-config', 'secret', '--admin', admin], t.io)).toBe(0)
    const lines = t.out.join('').split('\n')
    expect(lines[0]).toBe('identity: spiffe://cluster.local/ns/default/sa/reviews')
    expect(lines[1]).toMatch(/^renewal: \d{4}-\d\d-\d\dT/)
    expect(lines[2]).toMatch(
      /^TYPE\s+SUBJECT \/ SAN\s+SERIAL NUMBER\s+NOT BEFORE\s+NOT AFTER\s+EXPIRES IN\s+VALID$/,
    )
    const serial = ca.issued.at(-1)!.serial.toLowerCase()
    expect(lines[3]).toMatch(
      new RegExp(
        `^Cert Chain\\s+spiffe://cluster\\.local/ns/default/sa/reviews\\s+${serial}\\s+\\S+\\s+\\S+\\s+1h59m\\s+true$`,
      ),
    )
    expect(lines[4]).toMatch(
      /^ROOTCA\s+CN=minimesh test root, O=cluster\.local\s+[0-9a-f]+\s+\S+\s+\S+\s+23h5\dm\s+true$/,
    )
    expect(lines[5]).toBe('')
    const j = io()
    expect(await runCli(['proxy-config', 'secret', '--admin', admin, '-o', 'json'], j.io)).toBe(0)
    const view = JSON.parse(j.out.join('')) as { identity: string; certificates: { cert_chain: unknown[] }[] }
    expect(view.identity).toBe('spiffe://cluster.local/ns/default/sa/reviews')
    expect(view.certificates[0]?.cert_chain).toHaveLength(1)
  })
})

describe('secret table', () => {
  it('formats how long is left, and says when the proxy is retrying', () => {
    expect([
      expiresIn(-1),
      expiresIn(12_500),
      expiresIn(3_599_000),
      expiresIn(86_399_000),
      expiresIn(90_000_000),
    ]).toEqual(['expired', '12s', '59m59s', '23h59m', '1d1h'])
    const text = secretTable({
      identity: null,
      certificates: [],
      rotation: {
        next_attempt: '2026-01-01T00:00:01.000Z',
        failures: 3,
        consecutive_failures: 3,
        last_error: 'certificate request to meshd:15012 failed: UNAVAILABLE',
      },
    })
    expect(text).toBe(
      'no workload certificate: the first one is not in yet\nrenewal: 2026-01-01T00:00:01.000Z (retrying after 3 failure(s): certificate request to meshd:15012 failed: UNAVAILABLE)\n',
    )
  })
})
