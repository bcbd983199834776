/**
 * Tracing's cost on the request path, measured on the compiled gateway under wrk: rps and CPU per
 * request with tracing off (no collector), and on at 0%, 1% and 100% sampling (spans exported as
 * Zipkin v2 JSON to a sink in this process that counts them; 100% also as OTLP/HTTP JSON), in
 * alternating rounds, best of each; and two sidecars' latency at the fixed rate with 100% sampling.
 */
import { fileURLToPath } from 'node:url'
import { freePort, latency, measureRps, signalGroup, start, startMeshProxy, waitPort } from './harness.ts'
import { clientSidecar, gatewayBench, serverSidecar } from './proxy-config.ts'
import { round } from './stats.ts'

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

/**
 * Tracing's cost on the request path: a gateway per setting, three rounds in alternating order
 * (best of each); every span the sink received is counted against the requests served, so a run
 * whose exporter dropped spans shows it. Then two sidecars' latency at the fixed rate, 100%.
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
  const rps = Object.fromEntries(names.map((n) => [n, 0])) as Record<Config, number>
  const cpuUs = Object.fromEntries(names.map((n) => [n, Infinity])) as Record<Config, number>
  for (const order of [names, [...names].reverse(), names]) {
    console.error(`tracing rps: ${order.join(', ')}…`)
    for (const name of order) {
      const m = measureRps(targets[name].port, targets[name].pid)
      targets[name].requests += m.requests
      rps[name] = Math.max(rps[name], m.rps)
      cpuUs[name] = Math.min(cpuUs[name], m.cpuUs)
    }
  }
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
    added_cpu_us_per_request: Object.fromEntries(names.filter((n) => n !== 'off').map((n) => [n, added(n)])),
    ratio_vs_off: Object.fromEntries(
      names.filter((n) => n !== 'off').map((n) => [n, round(rps[n] / rps.off, 3)]),
    ),
    spans_received_vs_requests: spans,
    two_sidecars_latency_ms_100pct: lat.steady,
    two_sidecars_cpu_us_per_request_100pct: lat.cpuUs,
  }
}
