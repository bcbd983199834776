/**
 * pnpm bench:mtls — what mesh mTLS costs between two sidecars, measured in one run on this machine.
 * - latency_ms: p50 and p99 at a fixed 1,000 req/s (open loop, undici, 32 keep-alive connections)
 *   straight to the upstream, through a plaintext sidecar pair, and through an mTLS sidecar pair
 *   (client sidecar with auto mTLS → server sidecar with PeerAuthentication STRICT → upstream);
 *   after 2 s of warm-up per target, two rounds in alternating order, the best window of each
 *   (other work on a shared machine only ever adds latency); added_by_mtls_ms: mTLS pair minus the
 *   plaintext pair; cpu_us_per_request: CPU both sidecars of a pair spent per request;
 * - handshakes_per_second: new connections one server sidecar (STRICT) completes per second, each
 *   a full mTLS handshake (client certificate, no session resumption) and one HTTP/1.1 request
 *   with `connection: close`, from 32 concurrent clients in this process; beside it the same
 *   figure for plaintext connections to the plaintext server sidecar; cpu_us_per_connection: the
 *   server sidecar's CPU per connection; bare_node_tls_server: the peer, a node:tls server with the
 *   same certificates and client-certificate check answering a fixed 200 (what TLS alone costs).
 * The sidecars are the compiled proxy (dist/, rebuilt when older than the sources) with the
 * workload certificates of a test mesh CA (ECDSA P-256, SPIFFE URI SANs) in their certificate
 * stores; the upstream is one nginx worker with a fixed answer.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import tls from 'node:tls'
import { fileURLToPath } from 'node:url'
import type { StaticConfig } from '@minimesh/proxy'
import { Pool } from 'undici'
import { createTestMeshCa } from '../../packages/proxy/src/testdata/mesh-ca.ts'
import { ensureBuilt } from './build.ts'
import { freePort, waitPort } from './ports.ts'
import { groupCpuSeconds } from './procfs.ts'
import { meshClientSidecar, meshServerSidecar } from './proxy-config.ts'
import { fixedRate, round, summarize, writeResult } from './stats.ts'

const RATE = 1000
const WINDOW_S = 10
const WARM_S = 2
const HANDSHAKE_S = 5
const HANDSHAKE_CONCURRENCY = 32
const LAUNCHER = fileURLToPath(new URL('./mesh-sidecar.ts', import.meta.url))
const TLS_PEER = fileURLToPath(new URL('./tls-peer.ts', import.meta.url))
/** mesh-proxy's own start-up settings (packages/proxy/src/main.ts), without the source condition. */
const CHILD_ENV = { ...process.env, NODE_OPTIONS: '', MALLOC_ARENA_MAX: '2' }
const NODE_FLAGS = ['--max-semi-space-size=2']

const dir = mkdtempSync(join(tmpdir(), 'bench-mtls-'))
const children: ChildProcess[] = []

let stopping = false
function start(cmd: string, args: string[], name: string): ChildProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true, env: CHILD_ENV })
  let err = ''
  child.stderr!.on('data', (d: Buffer) => {
    err += d
  })
  child.once('exit', (code, signal) => {
    if (code && !stopping) console.error(`${name} exited ${code ?? signal}: ${err}`)
  })
  children.push(child)
  return child
}

function sidecar(config: StaticConfig, name: string, certDir?: string): ChildProcess {
  const file = join(dir, `${name}.json`)
  writeFileSync(file, JSON.stringify(config))
  return start(process.execPath, [...NODE_FLAGS, LAUNCHER, file, '9080', ...(certDir ? [certDir] : [])], name)
}

function stopAll(): void {
  stopping = true
  for (const c of children)
    try {
      process.kill(-c.pid!, 'SIGKILL')
    } catch {
      // gone
    }
}
process.on('exit', stopAll)
process.on('SIGINT', () => {
  stopAll()
  process.exit(130)
})

type Window = { p50: number; p99: number }

/** One latency window at the fixed rate through `port`, with the CPU the `groups` spent per request (µs). */
async function window(pool: Pool, groups: number[]): Promise<Window & { cpuUs: number }> {
  const get = async () => {
    const r = await pool.request({ path: '/', method: 'GET' })
    await r.body.dump()
    if (r.statusCode !== 200) throw new Error(`status ${r.statusCode}`)
  }
  const cpu = () => groups.reduce((sum, g) => sum + groupCpuSeconds(g), 0)
  const before = cpu()
  const s = summarize(await fixedRate(RATE, WINDOW_S, get))
  return { p50: s.p50, p99: s.p99, cpuUs: round(((cpu() - before) / (RATE * WINDOW_S)) * 1e6, 1) }
}

/**
 * New connections per second to `port` for `seconds`, `HANDSHAKE_CONCURRENCY` at a time: each
 * connects (over mTLS with `tlsOptions`), sends one request with `connection: close` and reads the
 * answer to its end.
 */
async function connectionsPerSecond(
  port: number,
  tlsOptions: tls.ConnectionOptions | undefined,
  group: number,
): Promise<{ per_second: number; cpu_us_per_connection: number; failures: Record<string, number> }> {
  const request = 'GET / HTTP/1.1\r\nhost: upstream\r\nconnection: close\r\n\r\n'
  const failures: Record<string, number> = {}
  const once = () =>
    new Promise<string | undefined>((resolve) => {
      const s = tlsOptions
        ? tls.connect({ host: '127.0.0.1', port, ...tlsOptions }, () => s.write(request))
        : net.connect(port, '127.0.0.1', () => s.write(request))
      let got = ''
      s.setEncoding('latin1')
      s.on('data', (d: string) => {
        got += d
      })
      s.on('end', () =>
        resolve(got.startsWith('HTTP/1.1 200') ? undefined : `answer ${got.slice(0, 12) || 'none'}`),
      )
      s.on('error', (e: Error & { code?: string }) => resolve(e.code ?? e.message))
    })
  let done = 0
  const until = performance.now() + HANDSHAKE_S * 1000
  const before = groupCpuSeconds(group)
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: HANDSHAKE_CONCURRENCY }, async () => {
      while (performance.now() < until) {
        const failure = await once()
        if (failure === undefined) done++
        else failures[failure] = (failures[failure] ?? 0) + 1
      }
    }),
  )
  const elapsed = (performance.now() - t0) / 1000
  const cpu = groupCpuSeconds(group) - before
  return {
    per_second: Math.round(done / elapsed),
    cpu_us_per_connection: round((cpu / Math.max(done, 1)) * 1e6, 1),
    failures,
  }
}
async function main(): Promise<void> {
  const build = ensureBuilt()
  // Workload certificates from a test mesh CA, as the CSR client would hold them.
  const ca = await createTestMeshCa()
  const certDir = async (sa: string) => {
    const c = await ca.issue('default', sa)
    const d = join(dir, `certs-${sa}`)
    mkdirSync(d)
    writeFileSync(join(d, 'chain.pem'), c.certChainPem)
    writeFileSync(join(d, 'key.pem'), c.keyPem)
    writeFileSync(join(d, 'roots.pem'), c.rootsPem)
    writeFileSync(join(d, 'spiffe-id'), c.spiffeId)
    return d
  }
  const [clientCerts, serverCerts] = await Promise.all([certDir('bench-client'), certDir('upstream')])
  const direct = await ca.issue('default', 'bench-direct')

  const [upPort, plainClient, plainServer, mtlsClient, mtlsServer, peerPort] = (await Promise.all(
    Array.from({ length: 6 }, freePort),
  )) as [number, number, number, number, number, number]
  const upstreamConf = join(dir, 'upstream.conf')
  writeFileSync(
    upstreamConf,
    `worker_processes 1;
daemon off;
pid ${dir}/upstream.pid;
error_log ${dir}/upstream.err warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp;
  uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:${upPort}; location / { return 200 "hello from upstream\\n"; } }
}
`,
  )
  const upstream = start('nginx', ['-c', upstreamConf, '-p', dir], 'upstream')
  const pServer = sidecar(meshServerSidecar(plainServer, upPort, false), 'plain-server')
  const pClient = sidecar(meshClientSidecar(plainClient, plainServer, false), 'plain-client')
  const mServer = sidecar(meshServerSidecar(mtlsServer, upPort, true), 'mtls-server', serverCerts)
  const mClient = sidecar(meshClientSidecar(mtlsClient, mtlsServer, true), 'mtls-client', clientCerts)
  const tlsPeer = start(process.execPath, [TLS_PEER, String(peerPort), serverCerts], 'tls-peer')
  await Promise.all(
    [upPort, plainClient, plainServer, mtlsClient, mtlsServer, peerPort].map((p) => waitPort(p, 15_000)),
  )

  const loadBefore = loadavg()[0]!
  const targets = {
    direct: { port: upPort, groups: [upstream.pid!] },
    plaintext_pair: { port: plainClient, groups: [pClient.pid!, pServer.pid!] },
    mtls_pair: { port: mtlsClient, groups: [mClient.pid!, mServer.pid!] },
  }
  type Name = keyof typeof targets
  const pools = Object.fromEntries(
    Object.entries(targets).map(([n, t]) => [
      n,
      new Pool(`http://127.0.0.1:${t.port}`, { connections: 32, pipelining: 1 }),
    ]),
  ) as Record<Name, Pool>
  const best: Partial<Record<Name, Window & { cpuUs: number }>> = {}
  const rounds: Record<string, Window>[] = []
  for (const name of Object.keys(targets) as Name[]) {
    console.error(`warm-up: ${name}…`)
    await fixedRate(RATE, WARM_S, async () =>
      (await pools[name].request({ path: '/', method: 'GET' })).body.dump(),
    )
  }
  for (const order of [Object.keys(targets), Object.keys(targets).reverse()] as Name[][]) {
    const result: Record<string, Window> = {}
    for (const name of order) {
      console.error(`latency at ${RATE} req/s: ${name}…`)
      const w = await window(pools[name], targets[name].groups)
      result[name] = { p50: w.p50, p99: w.p99 }
      const b = best[name]
      best[name] = b
        ? { p50: Math.min(b.p50, w.p50), p99: Math.min(b.p99, w.p99), cpuUs: Math.min(b.cpuUs, w.cpuUs) }
        : w
    }
    rounds.push(result)
  }
  await Promise.all(Object.values(pools).map((p) => p.close()))

  console.error('new connections per second: mTLS to the STRICT server sidecar, plaintext to the other…')
  const mtlsConn = await connectionsPerSecond(
    mtlsServer,
    {
      ca: ca.rootPem,
      cert: direct.certChainPem,
      key: direct.keyPem,
      checkServerIdentity: () => undefined,
      ALPNProtocols: ['http/1.1'],
    },
    mServer.pid!,
  )
  const plainConn = await connectionsPerSecond(plainServer, undefined, pServer.pid!)
  const peerConn = await connectionsPerSecond(
    peerPort,
    {
      ca: ca.rootPem,
      cert: direct.certChainPem,
      key: direct.keyPem,
      checkServerIdentity: () => undefined,
      ALPNProtocols: ['http/1.1'],
    },
    tlsPeer.pid!,
  )

  const b = best as Record<Name, Window & { cpuUs: number }>
  const lat = (n: Name) => ({ p50: b[n].p50, p99: b[n].p99 })
  writeResult('mtls', {
    command: 'pnpm bench:mtls',
    machine: { cores: cpus().length },
    upstream: 'nginx, 1 worker, fixed 200 response',
    sidecars: { entry: 'bench/src/mesh-sidecar.ts over packages/proxy/dist', build, node_flags: NODE_FLAGS },
    certificates: 'ECDSA P-256 workload certificates of a test mesh CA (SPIFFE URI SAN), TLS 1.3',
    latency_ms: {
      rate: RATE,
      seconds: WINDOW_S,
      direct: lat('direct'),
      plaintext_pair: lat('plaintext_pair'),
      mtls_pair: lat('mtls_pair'),
    },
    latency_rounds: rounds,
    added_by_sidecars_ms: {
      p50: round(b.plaintext_pair.p50 - b.direct.p50),
      p99: round(b.plaintext_pair.p99 - b.direct.p99),
    },
    added_by_mtls_ms: {
      p50: round(b.mtls_pair.p50 - b.plaintext_pair.p50),
      p99: round(b.mtls_pair.p99 - b.plaintext_pair.p99),
    },
    cpu_us_per_request: { plaintext_pair: b.plaintext_pair.cpuUs, mtls_pair: b.mtls_pair.cpuUs },
    handshakes_per_second: {
      seconds: HANDSHAKE_S,
      concurrency: HANDSHAKE_CONCURRENCY,
      mtls: mtlsConn,
      plaintext_connections: plainConn,
      bare_node_tls_server: peerConn,
      ratio_vs_plaintext: round(mtlsConn.per_second / Math.max(plainConn.per_second, 1), 3),
      ratio_vs_bare_node_tls: round(mtlsConn.per_second / Math.max(peerConn.per_second, 1), 3),
    },
    load_average: { before: round(loadBefore, 2), after: round(loadavg()[0]!, 2) },
    notes:
      'The handshake clients run in the benchmark process on the same cores as the sidecar: the figure is a floor. latency_ms is the best of two 10 s windows per target (alternating order).',
  })
}

try {
  await main()
} finally {
  stopAll()
  rmSync(dir, { recursive: true, force: true })
}
