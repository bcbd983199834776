/**
 * pnpm bench:tracing — what tracing costs, on its own (bench:proxy measures the same beside
 * everything else):
 * - request_path (tracing-cost.ts): the compiled gateway under wrk in front of one nginx worker,
 *   rps and CPU µs per request with tracing off, at 0%, 1% and 100% sampling (Zipkin v2 JSON; 100%
 *   also OTLP/HTTP JSON), spans counted by a sink process against the requests served; and two
 *   sidecars' latency at 1,000 req/s with 100% sampling;
 * - hot_path (tracing-hot-path.ts): the tracing stage and the finish hook in-process, CPU ns;
 * - encoders (tracing-encoders.ts): the proxy's Zipkin and OTLP JSON encoders beside the
 *   OpenTelemetry JS SDK's serializers, CPU µs per span.
 * Writes bench/results/tracing.json. Installs nginx and wrk from Debian when missing.
 */
import { cpus, loadavg } from 'node:os'
import {
  ensureBuilt,
  ensureTools,
  freePort,
  RUN_S,
  runBench,
  startNginx,
  WARM_S,
  WRK_ARGS,
  waitPort,
} from './harness.ts'
import { round, writeResult } from './stats.ts'
import { tracingCost } from './tracing-cost.ts'
import { tracingEncoders } from './tracing-encoders.ts'
import { node, sampleBatch, tracingHotPath } from './tracing-hot-path.ts'

async function main(): Promise<void> {
  ensureTools()
  const build = ensureBuilt()
  const loadBefore = loadavg()[0]!
  // In-process figures first, before any other process of ours runs.
  console.error('encoders beside the OpenTelemetry SDK…')
  const encoders = await tracingEncoders(sampleBatch(), node)
  console.error('tracing hot path, in-process…')
  const hotPath = await tracingHotPath()
  const upPort = await freePort()
  startNginx(
    'upstream',
    `  server { listen 127.0.0.1:${upPort}; location / { return 200 "hello from upstream\\n"; } }`,
  )
  await waitPort(upPort)
  const requestPath = await tracingCost(upPort)
  writeResult('tracing', {
    command: 'pnpm bench:tracing',
    machine: { cores: cpus().length },
    mesh_proxy: { entry: 'packages/proxy/bin/mesh-proxy.js', build },
    upstream: 'nginx, 1 worker, fixed 200 response',
    wrk: `${WRK_ARGS.join(' ')} -d${RUN_S}s after ${WARM_S}s warm-up, six rounds in alternating order (request_path.rounds)`,
    request_path: requestPath,
    hot_path: hotPath,
    encoders,
    load_average: { before: round(loadBefore, 2), after: round(loadavg()[0]!, 2) },
  })
}

await runBench(main)
