// meshctl proxy-config against a real mesh-proxy process (static configuration, admin on a free
// port): the tables show what the proxy serves; -o json gives the admin's own JSON.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../run.ts'

const MESH_PROXY = fileURLToPath(new URL('../../../proxy/src/main.ts', import.meta.url))

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

function io() {
  const out: string[] = []
  const err: string[] = []
  return {
    io: {
      out: (t: string) => out.push(t),
      err: (t: string) => err.push(t),
      stdin: process.stdin,
      cwd: process.cwd(),
    },
    out,
    err,
  }
}

describe('meshctl proxy-config', () => {
  let child: ChildProcess
  let admin = ''

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'proxy-config-'))
    const file = join(dir, 'config.json')
    writeFileSync(file, JSON.stringify(config))
    child = spawn(
      process.execPath,
      [
        '--conditions=@minimesh/source',
        MESH_PROXY,
        'router',
        '--config',
        file,
        '--admin-port',
        '0',
        '--stats-port',
        '0',
        '--health-port',
        '0',
        '--port-map',
        '8080=0',
        '--bind-address',
        '127.0.0.1',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    )
    admin = await new Promise<string>((resolve, reject) => {
      let err = ''
      child.stderr!.on('data', (d: Buffer) => {
        err += d
        const line = err.split('\n').find((l) => l.includes('mesh-proxy started'))
        if (line) resolve(`127.0.0.1:${(JSON.parse(line) as { ports: { admin: number } }).ports.admin}`)
      })
      child.once('exit', (code) => reject(new Error(`mesh-proxy exited ${code}: ${err}`)))
    })
  })
  afterAll(() => {
    child.kill('SIGKILL')
  })

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
})
