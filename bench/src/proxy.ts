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
 * - tracing (bench/src/tracing-cost.ts): rps and CPU per request of the same gateway with tracing
 *   off, at 0%, 1% and 100% sampling (spans exported to a sink process that counts them), in
 *   alternating rounds, best of each; and the two sidecars' latency at the fixed rate with 100%
 *   sampling; and (bench/src/tracing-hot-path.ts) the stage's and the hook's CPU cost in-process;
 * - rss_mb: peak resident memory of mesh-proxy serving Bookinfo's configuration under wrk load;
 *   rss_at_peak_mb splits it into anonymous memory and file-backed pages (mostly the node binary,
 *   shared by every sidecar on a node); anon_mb: the peak of anonymous memory alone.
 * mesh-proxy runs as production images run it: the compiled build (bin/mesh-proxy.js → dist/),
 * rebuilt first when missing or older than the sources; its own launcher adds its V8 flags.
 * Installs nginx, haproxy and wrk from Debian when missing; stops everything it starts.
 * (bench/src/harness.ts: the processes and the wrk runs; pnpm bench:tracing: the tracing part alone.)
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import {
  dir,
  ensureBuilt,
  ensureTools,
  freePort,
  LATENCY_RATE,
  LATENCY_S,
  latency,
  MESH_PROXY,
  measureRps,
  RUN_S,
  runBench,
  signalGroup,
  start,
  startMeshProxy,
  startNginx,
  WARM_S,
  WRK_ARGS,
  waitPort,
  wrk,
  wrkRun,
} from './harness.ts'
import { countGc, type GcCounts, rssOf } from './procfs.ts'
import { bookinfoGateway, clientSidecar, gatewayBench, serverSidecar } from './proxy-config.ts'
import { round, writeResult } from './stats.ts'
import { tracingCost } from './tracing-cost.ts'
import { tracingHotPath } from './tracing-hot-path.ts'

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

await runBench(main)
