/**
 * pnpm bench:proxy — mesh-proxy beside nginx and HAProxy, measured in one run on this machine.
 * - rps.direct / nginx (1 worker) / haproxy (1 thread) / minimesh (1 process): wrk with the same
 *   settings against each, all in front of the same upstream (an nginx worker answering 200);
 *   cpu_us_per_request: CPU time (user + system) each one's processes spent per request in that run
 *   (for direct: the upstream's own), the lowest of the two rounds;
 * - latency_ms.direct / two_sidecars: p50 and p99 at a fixed 1,000 req/s (open loop, undici),
 *   straight to the upstream and through client sidecar → server sidecar → upstream, in steady
 *   state: after 2 s of warm-up, the first 10 s are reported on their own (startup_latency_ms: a
 *   sidecar's first seconds, while V8 still compiles and grows its heap), then the next 10 s;
 *   latency_cpu_us_per_request: CPU the upstream (direct) or both sidecars spent per request there;
 * - gc_per_100k_requests: collections V8 reports (--trace-gc) in a gateway under wrk load for
 *   warm-up + run, less those of a gateway that only starts and stops (at_startup);
 * - tracing: rps and CPU per request of the same gateway with tracing off, at 1% and at 100%
 *   sampling (spans exported to a collector sink in this process that counts them), in alternating
 *   rounds, best of each; and the two sidecars' latency at the fixed rate with 100% sampling;
 *   and (bench/src/tracing-hot-path.ts) the stage's and the hook's CPU cost per request in-process;
 * - rss_mb: peak resident memory of mesh-proxy serving Bookinfo's configuration under wrk load;
 *   rss_at_peak_mb splits it into anonymous memory and file-backed pages (mostly the node binary,
 *   shared by every sidecar on a node); anon_mb: the peak of anonymous memory alone.
 * mesh-proxy runs as production images run it: the compiled build (bin/mesh-proxy.js → dist/),
 * rebuilt first when missing or older than the sources; its own launcher adds its V8 flags.
 * Installs nginx, haproxy and wrk from Debian when missing; stops everything it starts.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { StaticConfig } from '@minimesh/proxy'
import { Pool } from 'undici'
import { countGc, type GcCounts, groupCpuSeconds, rssOf } from './procfs.ts'
import { bookinfoGateway, clientSidecar, gatewayBench, serverSidecar } from './proxy-config.ts'
import { fixedRate, round, summarize, writeResult } from './stats.ts'
import { tracingHotPath } from './tracing-hot-path.ts'

const WRK_ARGS = ['-t1', '-c64']
const WARM_S = 2
const RUN_S = 6
const LATENCY_RATE = 1000
const LATENCY_S = 10
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const MESH_PROXY = join(ROOT, 'packages/proxy/bin/mesh-proxy.js')
/** The build mesh-proxy runs from, and the sources it is made of (a newer source means a stale build). */
const BUILT = join(ROOT, 'packages/proxy/dist/main.js')
const SOURCES = ['packages/proxy/src', 'packages/api/src'].map((d) => join(ROOT, d))
/** The child's environment: no source condition (it would load TypeScript sources instead). */
const CHILD_ENV = { ...process.env, NODE_OPTIONS: '' }

const dir = mkdtempSync(join(tmpdir(), 'bench-proxy-'))
const children: ChildProcess[] = []

function has(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

function ensureTools(): void {
  const want: [string, string][] = [
    ['nginx', 'nginx'],
    ['haproxy', 'haproxy'],
    ['wrk', 'wrk'],
  ]
  const missing = want.filter(([bin]) => !has(bin) && !has(`/usr/sbin/${bin}`)).map(([, pkg]) => pkg)
  if (missing.length === 0) return
  console.error(`installing ${missing.join(' ')} from Debian…`)
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' })
  execFileSync('apt-get', ['install', '-y', '-qq', ...missing], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  })
}

function newestMtime(dirPath: string): number {
  let newest = 0
  for (const e of readdirSync(dirPath, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !e.name.endsWith('.ts') || e.name.endsWith('.test.ts')) continue
    newest = Math.max(newest, statSync(join(e.parentPath, e.name)).mtimeMs)
  }
  return newest
}

/** Builds @minimesh/api and @minimesh/proxy when dist/ is missing or older than a source file. */
function ensureBuilt(): string {
  const stale = !existsSync(BUILT) || Math.max(...SOURCES.map(newestMtime)) > statSync(BUILT).mtimeMs
  if (!stale) return 'dist (up to date)'
  console.error('building @minimesh/api and @minimesh/proxy…')
  execFileSync('pnpm', ['--filter', '@minimesh/api', '--filter', '@minimesh/proxy', 'build'], {
    cwd: ROOT,
    stdio: 'inherit',
    env: CHILD_ENV,
  })
  return 'dist (rebuilt)'
}

async function freePort(): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const { port } = s.address() as net.AddressInfo
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

async function waitPort(port: number, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1')
      s.once('connect', () => {
        s.destroy()
        resolve(true)
      })
      s.once('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`nothing listening on 127.0.0.1:${port}`)
}

function start(cmd: string, args: string[], name: string, keepStdout = false): ChildProcess {
  // Its own process group, so stopping it also stops nginx's worker processes. keepStdout: for
  // the caller to read (--trace-gc).
  const child = spawn(cmd, args, {
    stdio: ['ignore', keepStdout ? 'pipe' : 'ignore', 'pipe'],
    detached: true,
    env: CHILD_ENV,
  })
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

const NGINX_COMMON = (name: string) => `worker_processes 1;
daemon off;
pid ${dir}/${name}.pid;
error_log ${dir}/${name}.err warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp;
  uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;
  keepalive_requests 1000000;`

function startNginx(name: string, body: string): ChildProcess {
  const file = join(dir, `${name}.conf`)
  writeFileSync(file, `${NGINX_COMMON(name)}\n${body}\n}\n`)
  return start('nginx', ['-c', file, '-p', dir], name)
}

function startMeshProxy(
  config: StaticConfig,
  name: string,
  extra: string[] = [],
  nodeFlags: string[] = [],
): ChildProcess {
  const file = join(dir, `${name}.json`)
  writeFileSync(file, JSON.stringify(config))
  return start(
    process.execPath,
    [
      ...nodeFlags,
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
      '--log-level',
      'warn',
      ...extra,
    ],
    name,
    nodeFlags.length > 0,
  )
}

function wrkRun(port: number, seconds: number): { rps: number; requests: number } {
  const out = execFileSync('wrk', [...WRK_ARGS, `-d${seconds}s`, `http://127.0.0.1:${port}/`], {
    encoding: 'utf8',
  })
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out)
  const n = /(\d+) requests in/.exec(out)
  if (!m || !n) throw new Error(`cannot read wrk output:\n${out}`)
  if (/Non-2xx or 3xx responses/.test(out)) throw new Error(`errors through port ${port}:\n${out}`)
  return { rps: Number(m[1]), requests: Number(n[1]) }
}

function wrk(port: number, seconds: number): number {
  return wrkRun(port, seconds).rps
}

/**
 * Requests per second through `port` after a warm-up, and the CPU time the process group behind
 * it spent per request meanwhile (µs): steadier than rps on a shared machine, and what limits a
 * single-process proxy.
 */
function measureRps(port: number, pgid: number): { rps: number; cpuUs: number } {
  wrk(port, WARM_S)
  const before = groupCpuSeconds(pgid)
  const run = wrkRun(port, RUN_S)
  const cpu = groupCpuSeconds(pgid) - before
  return { rps: Math.round(run.rps), cpuUs: round((cpu / run.requests) * 1e6, 1) }
}

type Latency = { p50: number; p99: number }

/**
 * Latency at the fixed rate: the first window after warm-up (start-up), then the next one (steady
 * state), with the CPU time the `groups` spent per request in the steady window (µs).
 */
async function latency(
  port: number,
  groups: number[],
): Promise<{ startup: Latency; steady: Latency; cpuUs: number }> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 32, pipelining: 1 })
  const get = async () => {
    const r = await pool.request({ path: '/', method: 'GET' })
    await r.body.dump()
    if (r.statusCode !== 200) throw new Error(`status ${r.statusCode}`)
  }
  await fixedRate(LATENCY_RATE, 2, get) // open the connections
  const window = async () => {
    const s = summarize(await fixedRate(LATENCY_RATE, LATENCY_S, get))
    return { p50: s.p50, p99: s.p99 }
  }
  const startup = await window()
  const cpu = () => groups.reduce((sum, g) => sum + groupCpuSeconds(g), 0)
  const before = cpu()
  const steady = await window()
  const cpuUs = round(((cpu() - before) / (LATENCY_RATE * LATENCY_S)) * 1e6, 1)
  await pool.close()
  return { startup, steady, cpuUs }
}

/**
 * Collections a --trace-gc gateway makes over its life (start, `seconds` of wrk load, drain). V8
 * prints the trace with C stdio, block-buffered into a pipe: it is whole only once the process
 * has exited, so a run is one process; a run without load gives what start-up alone costs.
 */
async function gcCounts(upPort: number, seconds: number): Promise<GcCounts & { requests: number }> {
  const port = await freePort()
  const p = startMeshProxy(
    gatewayBench(port, upPort),
    `minimesh-gc-${seconds}`,
    ['--access-log', 'off', '--port-map', `8080=${port}`],
    ['--trace-gc'],
  )
  const gc = countGc(p.stdout!)
  const closed = new Promise((r) => p.once('close', r))
  await waitPort(port)
  const requests = seconds > 0 ? wrkRun(port, seconds).requests : 0
  signalGroup(p, 'SIGTERM')
  await closed
  return { requests, ...gc.counts }
}

/** A trace collector that accepts every batch (202) and counts the spans: the cost measured is the proxy's. */
async function spanSink(): Promise<{ url: string; spans: () => number; close: () => void }> {
  let spans = 0
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      try {
        spans += (JSON.parse(Buffer.concat(chunks).toString()) as unknown[]).length
      } catch {
        // not a Zipkin batch: not counted
      }
      res.writeHead(202).end()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as net.AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}/api/v2/spans`,
    spans: () => spans,
    close: () => {
      server.closeAllConnections()
      server.close()
    },
  }
}

/**
 * Tracing's cost on the request path: the rps gateway with tracing off, at 1% and at 100% sampling,
 * two rounds in alternating order (best of each); then the two sidecars' latency at 100%.
 */
async function tracingCost(upPort: number) {
  const sink = await spanSink()
  const [p1, p100, client, server] = await Promise.all([freePort(), freePort(), freePort(), freePort()])
  const gw = (port: number, sampling: string | undefined, name: string) =>
    startMeshProxy(gatewayBench(port, upPort), name, [
      '--access-log',
      'off',
      '--port-map',
      `8080=${port}`,
      ...(sampling === undefined ? [] : ['--trace-collector', sink.url, '--trace-sampling', sampling]),
    ])
  const offPort = await freePort()
  const targets = {
    off: { port: offPort, proc: gw(offPort, undefined, 'trace-off') },
    sampled_1pct: { port: p1, proc: gw(p1, '1', 'trace-1') },
    sampled_100pct: { port: p100, proc: gw(p100, '100', 'trace-100') },
  }
  await Promise.all(Object.values(targets).map((t) => waitPort(t.port)))
  const rps = { off: 0, sampled_1pct: 0, sampled_100pct: 0 }
  const cpuUs = { off: Infinity, sampled_1pct: Infinity, sampled_100pct: Infinity }
  const names = Object.keys(targets) as (keyof typeof targets)[]
  for (const order of [names, [...names].reverse()]) {
    console.error(`tracing rps: ${order.join(', ')}…`)
    for (const name of order) {
      const m = measureRps(targets[name].port, targets[name].proc.pid!)
      rps[name] = Math.max(rps[name], m.rps)
      cpuUs[name] = Math.min(cpuUs[name], m.cpuUs)
    }
  }
  for (const t of Object.values(targets)) signalGroup(t.proc, 'SIGKILL')
  console.error('latency at 1,000 req/s: two sidecars, 100% sampling…')
  const tracedArgs = ['--access-log', 'off', '--trace-collector', sink.url, '--trace-sampling', '100']
  const s = startMeshProxy(serverSidecar(server, upPort), 'server-sidecar-traced', tracedArgs)
  const c = startMeshProxy(clientSidecar(client, server), 'client-sidecar-traced', tracedArgs)
  await Promise.all([client, server].map((p) => waitPort(p)))
  const lat = await latency(client, [c.pid!, s.pid!])
  signalGroup(c, 'SIGKILL')
  signalGroup(s, 'SIGKILL')
  await new Promise((r) => setTimeout(r, 200))
  const exported = sink.spans()
  sink.close()
  return {
    collector: 'in-process sink answering 202 (Zipkin v2 JSON), batches of up to 256 spans each second',
    rps,
    cpu_us_per_request: cpuUs,
    added_cpu_us_per_request: {
      sampled_1pct: round(cpuUs.sampled_1pct - cpuUs.off, 1),
      sampled_100pct: round(cpuUs.sampled_100pct - cpuUs.off, 1),
    },
    ratio_vs_off: {
      sampled_1pct: round(rps.sampled_1pct / rps.off, 3),
      sampled_100pct: round(rps.sampled_100pct / rps.off, 3),
    },
    two_sidecars_latency_ms_100pct: lat.steady,
    two_sidecars_cpu_us_per_request_100pct: lat.cpuUs,
    spans_exported: exported,
  }
}

let stopping = false
const alive = (c: ChildProcess) => c.exitCode === null && c.signalCode === null

function signalGroup(c: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-c.pid!, signal)
  } catch {
    // already gone
  }
}

/** Synchronous last resort (process exit): kill every group we started. */
function stopAll(): void {
  stopping = true
  for (const c of children) signalGroup(c, 'SIGKILL')
}

/** SIGTERM to each group, then SIGKILL what is still there after 3 s. */
async function stopGracefully(): Promise<void> {
  stopping = true
  for (const c of children) if (alive(c)) signalGroup(c, 'SIGTERM')
  const until = Date.now() + 3000
  while (children.some(alive) && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
  stopAll()
}
process.on('exit', stopAll)
process.on('SIGINT', () => {
  stopAll()
  process.exit(130)
})

async function main(): Promise<void> {
  ensureTools()
  const build = ensureBuilt()
  const ports = await Promise.all(Array.from({ length: 7 }, freePort))
  const [upPort, nginxPort, haproxyPort, meshPort, clientPort, serverPort, bookinfoPort] = ports as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  // The upstream: one nginx worker with a fixed answer.
  const upstream = startNginx(
    'upstream',
    `  server { listen 127.0.0.1:${upPort}; location / { return 200 "hello from upstream\\n"; } }`,
  )
  const nginx = startNginx(
    'nginx',
    `  upstream up { server 127.0.0.1:${upPort}; keepalive 128; keepalive_requests 1000000; }
  server { listen 127.0.0.1:${nginxPort}; location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; } }`,
  )
  const haCfg = join(dir, 'haproxy.cfg')
  writeFileSync(
    haCfg,
    `global
  nbthread 1
  maxconn 4000
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  http-reuse always
frontend fe
  bind 127.0.0.1:${haproxyPort}
  default_backend be
backend be
  server up 127.0.0.1:${upPort} maxconn 1000
`,
  )
  const haproxy = start('haproxy', ['-f', haCfg, '-db'], 'haproxy')
  const minimesh = startMeshProxy(gatewayBench(meshPort, upPort), 'minimesh', [
    '--access-log',
    'off',
    '--port-map',
    `8080=${meshPort}`,
  ])
  await Promise.all([upPort, nginxPort, haproxyPort, meshPort].map((p) => waitPort(p)))

  // Two rounds, in alternating order, best of each: other work on a shared machine only ever
  // lowers a figure, so the best round is the closest to what each proxy can do.
  const loadBefore = loadavg()[0]!
  const targets = {
    direct: { port: upPort, group: upstream.pid! },
    nginx: { port: nginxPort, group: nginx.pid! },
    haproxy: { port: haproxyPort, group: haproxy.pid! },
    minimesh: { port: meshPort, group: minimesh.pid! },
  }
  const rps = { direct: 0, nginx: 0, haproxy: 0, minimesh: 0 }
  const cpuUs = { direct: Infinity, nginx: Infinity, haproxy: Infinity, minimesh: Infinity }
  const rounds: Record<string, number>[] = []
  for (const order of [Object.keys(targets), Object.keys(targets).reverse()] as (keyof typeof targets)[][]) {
    console.error(`rps: ${order.join(', ')}…`)
    const result: Record<string, number> = {}
    for (const name of order) {
      const m = measureRps(targets[name].port, targets[name].group)
      result[name] = m.rps
      rps[name] = Math.max(rps[name], m.rps)
      cpuUs[name] = Math.min(cpuUs[name], m.cpuUs)
    }
    rounds.push(result)
  }

  // Two sidecars on loopback: client proxy → server proxy → upstream.
  console.error('latency at 1,000 req/s: direct, two sidecars…')
  const server = startMeshProxy(serverSidecar(serverPort, upPort), 'server-sidecar', ['--access-log', 'off'])
  const client = startMeshProxy(clientSidecar(clientPort, serverPort), 'client-sidecar', [
    '--access-log',
    'off',
  ])
  await Promise.all([clientPort, serverPort].map((p) => waitPort(p)))
  const directRuns = await latency(upPort, [upstream.pid!])
  const sidecarRuns = await latency(clientPort, [client.pid!, server.pid!])
  signalGroup(client, 'SIGKILL')
  signalGroup(server, 'SIGKILL')

  // Garbage collections per 100k requests: a gateway like the rps one, with --trace-gc.
  console.error('garbage collections under wrk load (--trace-gc)…')
  const idleGc = await gcCounts(upPort, 0)
  const loadGc = await gcCounts(upPort, WARM_S + RUN_S)
  const per100k = (n: number) => round((n * 100_000) / loadGc.requests, 1)
  const gcPer100k = {
    requests: loadGc.requests,
    scavenge: per100k(loadGc.scavenge - idleGc.scavenge),
    mark_compact: per100k(loadGc.markCompact - idleGc.markCompact),
    at_startup: { scavenge: idleGc.scavenge, mark_compact: idleGc.markCompact },
  }
  const direct = directRuns.steady
  const twoSidecars = sidecarRuns.steady
  const tracing = await tracingCost(upPort)
  console.error('tracing hot path, in-process…')
  const tracingHot = await tracingHotPath()

  // Memory: Bookinfo's configuration under load (access log on, written to a file).
  console.error('rss under load with Bookinfo configuration…')
  const bookinfo = startMeshProxy(bookinfoGateway(upPort), 'bookinfo', [
    '--access-log',
    join(dir, 'access.log'),
    '--port-map',
    `8080=${bookinfoPort}`,
  ])
  await waitPort(bookinfoPort)
  const nodeArgs = readFileSync(`/proc/${bookinfo.pid}/cmdline`, 'utf8').split('\0')
  const nodeFlags = nodeArgs.slice(1, nodeArgs.indexOf(MESH_PROXY))
  let peak = rssOf(bookinfo.pid!)
  let peakAnon = peak.anon
  const sample = () => {
    const now = rssOf(bookinfo.pid!)
    if (now.total > peak.total) peak = now
    peakAnon = Math.max(peakAnon, now.anon)
  }
  const sampler = setInterval(sample, 100)
  const rpsBookinfo = Math.round(wrk(bookinfoPort, 5))
  clearInterval(sampler)
  sample()

  writeResult('proxy', {
    command: 'pnpm bench:proxy',
    machine: { cores: cpus().length },
    upstream: 'nginx, 1 worker, fixed 200 response',
    mesh_proxy: { entry: 'packages/proxy/bin/mesh-proxy.js', build, node_flags: nodeFlags },
    wrk: `${WRK_ARGS.join(' ')} -d${RUN_S}s after ${WARM_S}s warm-up`,
    rps,
    rps_rounds: rounds,
    ratio_vs_nginx: round(rps.minimesh / rps.nginx, 3),
    ratio_vs_haproxy: round(rps.minimesh / rps.haproxy, 3),
    cpu_us_per_request: cpuUs,
    cpu_ratio_vs_nginx: round(cpuUs.minimesh / cpuUs.nginx, 2),
    gc_per_100k_requests: gcPer100k,
    latency_ms: { rate: LATENCY_RATE, seconds: LATENCY_S, direct, two_sidecars: twoSidecars },
    latency_cpu_us_per_request: { direct: directRuns.cpuUs, two_sidecars: sidecarRuns.cpuUs },
    added_latency_ms: { p50: round(twoSidecars.p50 - direct.p50), p99: round(twoSidecars.p99 - direct.p99) },
    tracing: {
      hot_path: tracingHot,
      ...tracing,
      two_sidecars_added_latency_ms_100pct: {
        p50: round(tracing.two_sidecars_latency_ms_100pct.p50 - direct.p50),
        p99: round(tracing.two_sidecars_latency_ms_100pct.p99 - direct.p99),
      },
    },
    startup_latency_ms: {
      direct: directRuns.startup,
      two_sidecars: sidecarRuns.startup,
      added: {
        p50: round(sidecarRuns.startup.p50 - directRuns.startup.p50),
        p99: round(sidecarRuns.startup.p99 - directRuns.startup.p99),
      },
    },
    rss_mb: round(peak.total, 1),
    rss_at_peak_mb: { anon: round(peak.anon, 1), file: round(peak.file, 1) },
    anon_mb: round(peakAnon, 1),
    rss_load_rps: rpsBookinfo,
    load_average: { before: round(loadBefore, 2), after: round(loadavg()[0]!, 2) },
    goals: {
      ratio_vs_nginx: '>= 0.5',
      cpu_ratio_vs_nginx: '<= 2',
      two_sidecars_added_p50_ms: '<= 0.4',
      two_sidecars_added_p99_ms: '<= 1.5',
      anon_mb: '<= 40',
    },
    notes:
      'minimesh rps and latency runs have the access log off (Istio default); the rss run writes it to a file. latency_ms is steady state (the 10 s after the first 10 s at the rate); startup_latency_ms is that first window, sidecars started just before.',
  })
}

try {
  await main()
} finally {
  await stopGracefully()
  rmSync(dir, { recursive: true, force: true })
}
