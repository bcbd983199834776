// A proxy with a CA configured, against one test TLS server that serves what meshd serves on 15012
// (certificate service, discovery, quota): discovery over TLS verified against the mesh root,
// readiness that waits for config AND the first certificate, the admin's /certs and the agent's
// metrics; a proxy given the wrong root gets no configuration; the quota client over TLS; and
// mesh-proxy as a process with MESH_CA_ROOT_CERT (a file) and MESH_CA_ADDRESS.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type * as grpc from '@grpc/grpc-js'
import {
  type DiscoveryRequest,
  type DiscoveryResponse,
  encodeResource,
  loadDiscoveryProto,
  resourceName,
  TypeUrl,
} from '@minimesh/api'
import { addQuotaService, MemoryQuotaBackend } from '@minimesh/control-plane/quota'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CertsView } from '../admin/certs.ts'
import type { StaticConfig } from '../config/validate.ts'
import type { RunningProxy } from '../proxy.ts'
import { grpcQuotaClient } from '../quota/client.ts'
import {
  call,
  cluster,
  endpoints,
  gatewayConfig,
  gatewayPort,
  startTestProxy,
  startUpstream,
  type Upstream,
} from '../testdata/harness.ts'
import { createTestRoot, TestCertificateServer } from '../testdata/test-ca.ts'
import { meshChannelCredentials } from './ca-client.ts'

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url))

/** Serves a fixed configuration: the state of the world for each type asked, ACKs ignored. */
function addDiscovery(server: grpc.Server, config: () => StaticConfig): void {
  const Service = loadDiscoveryProto().minimesh.discovery.v1.DiscoveryService
  server.addService(Service.service, {
    StreamResources: (stream: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) => {
      let nonce = 0
      stream.on('data', (req: DiscoveryRequest) => {
        if (req.response_nonce) return
        const c = config()
        const t = req.type_url as TypeUrl
        const byType: Partial<Record<TypeUrl, unknown[]>> = {
          [TypeUrl.Cluster]: c.clusters,
          [TypeUrl.ClusterLoadAssignment]: c.endpoints,
          [TypeUrl.Listener]: c.listeners,
          [TypeUrl.RouteConfiguration]: c.routes,
        }
        const list = (byType[t] ?? []) as Record<string, unknown>[]
        stream.write({
          version_info: 'v1',
          type_url: t,
          nonce: `n${++nonce}`,
          resources: list.map((r) => encodeResource(t, resourceName(t, r), r, 'v1')),
        })
      })
      stream.on('error', () => {})
      stream.on('end', () => stream.end())
    },
  })
}

describe('a proxy with the mesh CA', () => {
  let ca: TestCertificateServer
  let app: Upstream
  let dir: string
  let tokenFile: string
  const proxies: RunningProxy[] = []

  const start = (extra: { rootsPem?: string } = {}) =>
    startTestProxy(undefined, {
      mode: 'router',
      discoveryAddress: ca.address,
      discoveryRootsPem: extra.rootsPem ?? ca.rootPem,
      ca: {
        address: ca.address,
        rootsPem: extra.rootsPem ?? ca.rootPem,
        tokenFile,
        initialBackoffMs: 50,
        maxBackoffMs: 200,
      },
      identity: { workload: 'gw', namespace: 'default', serviceAccount: 'reviews', labels: { app: 'gw' } },
      xdsInitialBackoffMs: 50,
      xdsMaxBackoffMs: 200,
    }).then((p) => {
      proxies.push(p)
      return p
    })

  beforeAll(async () => {
    app = await startUpstream('app')
    dir = mkdtempSync(join(tmpdir(), 'minimesh-proxy-ca-'))
    tokenFile = join(dir, 'minimesh-token')
    writeFileSync(tokenFile, 'token-reviews')
    const config = gatewayConfig(
      [{ match: {}, route: { clusters: [{ name: 'c', weight: 1 }] } }],
      [cluster('c')],
      [endpoints('c', [app])],
    )
    ca = new TestCertificateServer({
      tokens: { 'token-reviews': 'default/reviews' },
      services: (server) => {
        addDiscovery(server, () => config)
        addQuotaService(server, new MemoryQuotaBackend())
      },
    })
    await ca.start()
  })
  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.close()))
    ca.stop()
    await app.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('takes its configuration over TLS and is ready once its certificate is in too', async () => {
    ca.failWith = 'CA not ready yet'
    const proxy = await start()
    const health = () => fetch(`http://127.0.0.1:${proxy.ports.health}/healthz/ready`)
    try {
      await expect.poll(() => proxy.store.ready, { timeout: 5000 }).toBe(true)
      // Configuration in, certificate not: not ready, and it says why.
      const r = await health()
      expect(r.status).toBe(503)
      expect(await r.text()).toBe('waiting for the workload certificate\n')
      expect(proxy.ctx.certs.current).toBeUndefined()
      expect((await call(gatewayPort(proxy), '/')).json<{ name: string }>().name).toBe('app')
    } finally {
      ca.failWith = undefined
    }
    await proxy.whenReady()
    expect((await health()).status).toBe(200)
    expect(proxy.ctx.certs.current?.spiffeId).toBe('spiffe://cluster.local/ns/default/sa/reviews')
    expect(proxy.certificates?.stats.failures).toBeGreaterThanOrEqual(1)
    expect(proxy.xds?.stats.acks).toBeGreaterThanOrEqual(4)
  })

  it('shows its certificate at /certs and its expiry in the metrics', async () => {
    const proxy = await start()
    await proxy.whenReady()
    const view = (await (await fetch(`http://127.0.0.1:${proxy.ports.admin}/certs`)).json()) as CertsView
    expect(view.identity).toBe('spiffe://cluster.local/ns/default/sa/reviews')
    const [c] = view.certificates
    expect(c?.cert_chain).toHaveLength(1)
    const leaf = c!.cert_chain[0]!
    expect(leaf.subject_alt_names).toEqual([{ uri: 'spiffe://cluster.local/ns/default/sa/reviews' }])
    expect(leaf.serial_number).toBe(ca.issued.at(-1)!.serial.toLowerCase())
    expect(leaf.days_until_expiration).toBe(0) // 24 h minus the seconds this test took
    expect(Date.parse(leaf.expiration_time) - Date.parse(leaf.valid_from)).toBe(86_400_000)
    expect(c!.ca_cert.map((r) => r.subject)).toEqual(['CN=minimesh test root, O=cluster.local'])
    expect(view.rotation).toMatchObject({ requests: 1, failures: 0, rotations: 0, last_error: null })
    // Renewal is due at half life.
    const due = Date.parse(view.rotation!.next_attempt!) - Date.parse(leaf.valid_from)
    expect(Math.abs(due - 43_200_000)).toBeLessThan(10_000)
    const prom = await (await fetch(`http://127.0.0.1:${proxy.ports.stats}/stats/prometheus`)).text()
    const expiry = Number(/^minimesh_agent_cert_expiry_seconds (\S+)$/m.exec(prom)?.[1])
    expect(expiry).toBeGreaterThan(86_300)
    expect(expiry).toBeLessThanOrEqual(86_400)
    expect(prom).toMatch(/^minimesh_agent_cert_requests_total 1$/m)
  })

  it('gets no configuration and no certificate from a server its root does not trust', async () => {
    const other = await createTestRoot('not the mesh root')
    const proxy = await start({ rootsPem: other.certPem })
    await expect.poll(() => proxy.xds?.stats.connects ?? 0, { timeout: 5000 }).toBeGreaterThanOrEqual(2)
    expect(proxy.store.ready).toBe(false)
    expect(proxy.xds?.stats.lastError).toMatch(
      /UNAVAILABLE: .*unable to verify the first certificate — TLS handshake refused: meshd’s serving certificate is not trusted by MESH_CA_ROOT_CERT/,
    )
    expect(proxy.xds?.stats.lastError).not.toContain('--use-system-ca')
    expect(proxy.certificates?.stats.lastError).toMatch(/TLS handshake refused/)
    expect(proxy.ctx.certs.current).toBeUndefined()
    expect((await fetch(`http://127.0.0.1:${proxy.ports.health}/healthz/ready`)).status).toBe(503)
  })

  it('reaches the quota service over TLS', async () => {
    const client = grpcQuotaClient(ca.address, 2000, meshChannelCredentials(ca.rootPem))
    try {
      const req = { quota: 'default/q', dimensions: {}, amount: 1, maxAmount: 1, validDurationMs: 60_000 }
      expect(await client.allocate(req)).toBe(1)
      expect(await client.allocate(req)).toBe(0)
    } finally {
      client.close()
    }
  })

  describe('mesh-proxy with MESH_CA_ROOT_CERT', () => {
    let child: ChildProcess | undefined
    afterAll(() => {
      if (child?.exitCode === null) child.kill('SIGKILL')
    })

    it('reaches the CA and discovery at MESH_CA_ADDRESS over TLS and becomes ready', async () => {
      const rootFile = join(dir, 'root.pem')
      writeFileSync(rootFile, ca.rootPem)
      child = spawn(
        process.execPath,
        [
          '--conditions=@minimesh/source',
          MAIN,
          'router',
          ...['--admin-port', '0', '--stats-port', '0', '--health-port', '0', '--prom-port', '0'],
          ...['--port-map', '8080=0', '--bind-address', '127.0.0.1', '--access-log', 'off'],
          ...['--token-file', tokenFile, '--workload-cert-ttl', '1h'],
        ],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
          env: {
            ...process.env,
            // Plaintext 15010 here would be unreachable: with the roots, meshd is reached on its TLS port.
            MESH_DISCOVERY_ADDRESS: '127.0.0.1:1',
            MESH_CA_ADDRESS: ca.address,
            MESH_CA_ROOT_CERT: rootFile,
            POD_NAMESPACE: 'default',
            SERVICE_ACCOUNT: 'reviews',
            POD_NAME: 'gw-1',
          },
        },
      )
      let err = ''
      const started = await new Promise<{ ports: { admin: number; health: number } }>((resolve, reject) => {
        child!.stderr!.on('data', (d: Buffer) => {
          err += d
          const line = err.split('\n').find((l) => l.includes('mesh-proxy started'))
          if (line) resolve(JSON.parse(line) as { ports: { admin: number; health: number } })
        })
        child!.once('exit', (code) => reject(new Error(`mesh-proxy exited ${code}: ${err}`)))
      })
      await expect
        .poll(async () => (await fetch(`http://127.0.0.1:${started.ports.health}/healthz/ready`)).status, {
          timeout: 10_000,
        })
        .toBe(200)
      const view = (await (await fetch(`http://127.0.0.1:${started.ports.admin}/certs`)).json()) as CertsView
      expect(view.identity).toBe('spiffe://cluster.local/ns/default/sa/reviews')
      expect(ca.issued.at(-1)?.validitySeconds).toBe(3600)
    })

    const fails = async (args: string[], env: Record<string, string>) => {
      const bad = spawn(process.execPath, ['--conditions=@minimesh/source', MAIN, 'sidecar', ...args], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, MESH_DISCOVERY_ADDRESS: 'meshd:15010', ...env },
      })
      let err = ''
      bad.stderr!.on('data', (d: Buffer) => {
        err += d
      })
      const code = await new Promise<number | null>((r) => bad.once('exit', r))
      return { code, err }
    }

    it('fails clearly at start when the roots are not a certificate, or the lifetime is not a duration', async () => {
      const roots = await fails([], { MESH_CA_ROOT_CERT: join(dir, 'nope.pem') })
      expect(roots.code).toBe(1)
      expect(roots.err).toMatch(
        /mesh-proxy: MESH_CA_ROOT_CERT: neither PEM nor a readable file: .*nope\.pem .*\[MESH_ERR_PROXY_CA_ROOTS\]/,
      )
      const ttl = await fails(['--workload-cert-ttl', '500ms'], { MESH_CA_ROOT_CERT: ca.rootPem })
      expect(ttl.code).toBe(1)
      expect(ttl.err).toContain(
        'mesh-proxy: --workload-cert-ttl 500ms: must be at least 1s [MESH_ERR_PROXY_BAD_OPTION]',
      )
    })
  })
})
