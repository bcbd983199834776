/**
 * Tracing's cost on the request path, measured on the compiled gateway under wrk: rps and CPU per
 * request with tracing off (no collector), and on at 0%, 1% and 100% sampling (spans exported as
 * Zipkin v2 JSON to a sink process that counts them; 100% also as OTLP/HTTP JSON), in
 * alternating rounds; and two sidecars' latency at the fixed rate with 100% sampling.
 */
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { freePort, latency, measureRps, signalGroup, start, startMeshProxy, waitPort } from './harness.ts'
import { clientSidecar, gatewayBench, serverSidecar } from './proxy-config.ts'
import { median, round } from './stats.ts'

const SINK = fileURLToPath(new URL('./span-sink.ts', import.meta.url))

/** The sink (span-sink.ts) in its own process: its URL, and the spans it has counted per path. */
async function startSink(): Promise<{ url: string; counts: () => Promise<Record<string, number>> }> {
  const proc = start(process.execPath, [SINK], 'span-sink', true)
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim())))
    proc.once('exit', (code) => reject(new Error(`span sink exited ${code}`)))
  })
  const url = `http://127.0.0.1:${port}`
  return { url, counts: async () => (await (await fetch(url)).json()) as Record<string, number> }
}

const CONFIGS = {
  off: undefined,
  sampled_0pct: { sampling: '0', format: 'zipkin' },
  sampled_1pct: { sampling: '1', format: 'zipkin' },
  sampled_100pct: { sampling: '100', format: 'zipkin' },
  sampled_100pct_otlp: { sampling: '100', format: 'otlp' },
} as const
type Config = keyof typeof CONFIGS
const PATH = { zipkin: '/api/v2/spans', otlp: '/v1/traces' }
/** Rounds over every setting, in alternating order. */
const ROUNDS = 6

/**
 * Tracing's cost on the request path: a gateway per setting, six rounds in alternating order; per
 * setting the best round (rps, CPU per request, as bench:proxy reports) and the median, and the
 * added CPU per request as the median over rounds of its difference from tracing off in the same
 * round (paired: steadier when other work on the machine comes and goes); every round's figures and
 * load average are kept. Every span the sink received is counted against the requests served, so a
 * run whose exporter dropped spans shows it. Then two sidecars' latency at the fixed rate, 100%.
 */
export async function tracingCost(upPort: number) {
  const sink = await startSink()
  const names = Object.keys(CONFIGS) as Config[]
  const targets = {} as Record<Config, { port: number; pid: number; requests: number }>
  for (const name of names) {
    const c = CONFIGS[name]
    const port = await freePort()
    const collector = c && `${sink.url}/${name}${PATH[c.format]}`
    const proc = startMeshProxy(gatewayBench(port, upPort), `trace-${name}`, [
      '--access-log',
      'off',
      '--port-map',
      `8080=${port}`,
      ...(c
        ? ['--trace-collector', collector!, '--trace-format', c.format, '--trace-sampling', c.sampling]
        : []),
    ])
    targets[name] = { port, pid: proc.pid!, requests: 0 }
  }
  await Promise.all(Object.values(targets).map((t) => waitPort(t.port)))
  const rounds: { load_1m: number; rps: Record<string, number>; cpu_us: Record<string, number> }[] = []
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? names : [...names].reverse()
    console.error(`tracing rps, round ${r + 1} of ${ROUNDS}: ${order.join(', ')}…`)
    const round_ = {
      load_1m: round(loadavg()[0]!, 2),
      rps: {} as Record<string, number>,
      cpu_us: {} as Record<string, number>,
    }
    for (const name of order) {
      const m = measureRps(targets[name].port, targets[name].pid)
      targets[name].requests += m.requests
      round_.rps[name] = m.rps
      round_.cpu_us[name] = m.cpuUs
    }
    rounds.push(round_)
  }
  const each = (f: (n: Config) => number) =>
    Object.fromEntries(names.map((n) => [n, f(n)])) as Record<Config, number>
  const rps = each((n) => Math.max(...rounds.map((r) => r.rps[n]!)))
  const cpuUs = each((n) => Math.min(...rounds.map((r) => r.cpu_us[n]!)))
  const cpuMedian = each((n) => median(rounds.map((r) => r.cpu_us[n]!)))
  // Each setting against tracing off in the same round (the machine's load drifts between rounds).
  const addedPaired = each((n) => round(median(rounds.map((r) => r.cpu_us[n]! - r.cpu_us.off!)), 1))
  // The last batches: the exporters flush each second.
  await new Promise((r) => setTimeout(r, 2500))
  const counts = await sink.counts()
  const spans = Object.fromEntries(
    names
      .filter((n) => CONFIGS[n])
      .map((n) => [
        n,
        { requests: targets[n].requests, spans: counts[`/${n}${PATH[CONFIGS[n]!.format]}`] ?? 0 },
      ]),
  )
  for (const t of Object.values(targets)) signalGroup(t, 'SIGKILL')
  console.error('latency at 1,000 req/s: two sidecars, 100% sampling…')
  const [client, server] = await Promise.all([freePort(), freePort()])
  const tracedArgs = [
    '--access-log',
    'off',
    '--trace-collector',
    `${sink.url}/latency${PATH.zipkin}`,
    '--trace-sampling',
    '100',
  ]
  const s = startMeshProxy(serverSidecar(server, upPort), 'server-sidecar-traced', tracedArgs)
  const c = startMeshProxy(clientSidecar(client, server), 'client-sidecar-traced', tracedArgs)
  await Promise.all([client, server].map((p) => waitPort(p)))
  const lat = await latency(client, [c.pid!, s.pid!])
  signalGroup(c, 'SIGKILL')
  signalGroup(s, 'SIGKILL')
  const added = (n: Config) => round(cpuUs[n] - cpuUs.off, 1)
  return {
    collector:
      'a sink in its own process answering 202 (Zipkin v2 JSON, or OTLP/HTTP JSON for *_otlp); batches of up to 256 spans, at least each second',
    rps,
    cpu_us_per_request: cpuUs,
    cpu_us_per_request_median: cpuMedian,
    added_cpu_us_per_request: Object.fromEntries(names.filter((n) => n !== 'off').map((n) => [n, added(n)])),
    added_cpu_us_per_request_paired_median: Object.fromEntries(
      names.filter((n) => n !== 'off').map((n) => [n, addedPaired[n]]),
    ),
    ratio_vs_off: Object.fromEntries(
      names.filter((n) => n !== 'off').map((n) => [n, round(rps[n] / rps.off, 3)]),
    ),
    rounds,
    spans_received_vs_requests: spans,
    two_sidecars_latency_ms_100pct: lat.steady,
    two_sidecars_cpu_us_per_request_100pct: lat.cpuUs,
  }
}
