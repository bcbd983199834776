/**
 * pnpm bench:proxy:ab — the rps and CPU-per-request part of bench:proxy alone, for two builds of
 * mesh-proxy in interleaved rounds (A, B, B, A, A, B, …), so that other work on a shared machine
 * weighs on both alike; prints each round and the medians. A is this tree's build (rebuilt when
 * stale); B is another entry (`--base /tmp/base/packages/proxy/bin/mesh-proxy.js`, a build of the
 * tree to compare with), or A again when absent (the noise between two identical proxies).
 * --rss: instead, the peak anonymous memory of each build serving Bookinfo's configuration under
 * wrk load (bench:proxy's rss run), a fresh process per round.
 * --latency: instead, the two sidecars' added latency at bench:proxy's fixed rate (client sidecar →
 * server sidecar → upstream), each build's pair started fresh per round, steady-state p50/p99.
 * --a-flags 'FLAGS': node flags for A only (B keeps its launcher's), to weigh a V8 setting.
 *   --rounds N (default 5)  --base ENTRY  --cpu-prof DIR (profile A while it runs)  --rss
 */
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import {
  dir,
  ensureBuilt,
  ensureTools,
  freePort,
  latency,
  MESH_PROXY,
  measureRps,
  runBench,
  signalGroup,
  startMeshProxy,
  startNginx,
  waitPort,
  wrk,
} from './harness.ts'
import { rssOf } from './procfs.ts'
import { bookinfoGateway, clientSidecar, gatewayBench, serverSidecar } from './proxy-config.ts'
import { median } from './stats.ts'

type Latency = { p50: number; p99: number }

/** Steady-state latency through a fresh client and server sidecar pair from `entry`. */
async function sidecarLatency(entry: string, upPort: number, flags: string[]): Promise<Latency> {
  const [clientPort, serverPort] = [await freePort(), await freePort()]
  const off = ['--access-log', 'off']
  const server = startMeshProxy(serverSidecar(serverPort, upPort), 'server-sidecar', off, flags, entry)
  const client = startMeshProxy(clientSidecar(clientPort, serverPort), 'client-sidecar', off, flags, entry)
  await Promise.all([clientPort, serverPort].map((p) => waitPort(p)))
  const { steady } = await latency(clientPort, [client.pid!, server.pid!])
  for (const p of [client, server]) {
    signalGroup(p, 'SIGTERM')
    await new Promise((r) => p.once('close', r))
  }
  return steady
}

/** Peak anonymous memory (MB) of a fresh Bookinfo gateway from `entry` under 5 s of wrk load. */
async function peakAnon(entry: string, upPort: number, flags: string[]): Promise<number> {
  const port = await freePort()
  const p = startMeshProxy(
    bookinfoGateway(upPort),
    'bookinfo',
    ['--access-log', join(dir, 'access.log'), '--port-map', `8080=${port}`],
    flags,
    entry,
  )
  await waitPort(port)
  let peak = 0
  const sample = () => {
    peak = Math.max(peak, rssOf(p.pid!).anon)
  }
  const sampler = setInterval(sample, 100)
  wrk(port, 5)
  clearInterval(sampler)
  sample()
  const closed = new Promise((r) => p.once('close', r))
  signalGroup(p, 'SIGKILL')
  await closed
  return Math.round(peak * 10) / 10
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '5' },
      base: { type: 'string' },
      'cpu-prof': { type: 'string' },
      rss: { type: 'boolean', default: false },
      latency: { type: 'boolean', default: false },
      'a-flags': { type: 'string', default: '' },
    },
  })
  ensureTools()
  ensureBuilt()
  const rounds = Number(values.rounds)
  const aFlags = values['a-flags'].split(' ').filter(Boolean)
  const [upPort, aPort, bPort] = (await Promise.all([freePort(), freePort(), freePort()])) as [
    number,
    number,
    number,
  ]
  startNginx(
    'upstream',
    `  server { listen 127.0.0.1:${upPort}; location / { return 200 "hello from upstream\\n"; } }`,
  )
  if (values.rss) {
    const anon = { a: [] as number[], b: [] as number[] }
    const entries = { a: MESH_PROXY, b: values.base ?? MESH_PROXY }
    await waitPort(upPort)
    for (let i = 0; i < rounds; i++) {
      for (const k of i % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const))
        anon[k].push(await peakAnon(entries[k], upPort, k === 'a' ? aFlags : []))
      console.log(`round ${i + 1}: A ${anon.a.at(-1)} MB | B ${anon.b.at(-1)} MB anon`)
    }
    console.log(`median anon: A ${median(anon.a)} MB | B ${median(anon.b)} MB`)
    return
  }
  if (values.latency) {
    const lat = { a: [] as Latency[], b: [] as Latency[] }
    const entries = { a: MESH_PROXY, b: values.base ?? MESH_PROXY }
    await waitPort(upPort)
    for (let i = 0; i < rounds; i++) {
      for (const k of i % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const))
        lat[k].push(await sidecarLatency(entries[k], upPort, k === 'a' ? aFlags : []))
      const show = (l: Latency) => `p50 ${l.p50} p99 ${l.p99} ms`
      console.log(`round ${i + 1}: A ${show(lat.a.at(-1)!)} | B ${show(lat.b.at(-1)!)}`)
    }
    const med = (ls: Latency[]) =>
      `p50 ${median(ls.map((l) => l.p50))} p99 ${median(ls.map((l) => l.p99))} ms`
    console.log(`median two sidecars: A ${med(lat.a)} | B ${med(lat.b)}`)
    return
  }
  const prof = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : []
  const start = (name: string, port: number, entry: string, flags: string[]) =>
    startMeshProxy(
      gatewayBench(port, upPort),
      name,
      ['--access-log', 'off', '--port-map', `8080=${port}`],
      flags,
      entry,
    )
  const a = start('a', aPort, MESH_PROXY, [...aFlags, ...prof])
  const b = start('b', bPort, values.base ?? MESH_PROXY, [])
  await Promise.all([upPort, aPort, bPort].map((p) => waitPort(p)))
  const res = {
    a: { rps: [] as number[], cpu: [] as number[] },
    b: { rps: [] as number[], cpu: [] as number[] },
  }
  const targets = { a: { port: aPort, pid: a.pid! }, b: { port: bPort, pid: b.pid! } }
  for (let i = 0; i < rounds; i++) {
    const order: ('a' | 'b')[] = i % 2 === 0 ? ['a', 'b'] : ['b', 'a']
    for (const k of order) {
      const m = measureRps(targets[k].port, targets[k].pid)
      res[k].rps.push(m.rps)
      res[k].cpu.push(m.cpuUs)
    }
    console.log(
      `round ${i + 1}: A ${res.a.rps.at(-1)} rps ${res.a.cpu.at(-1)} µs | B ${res.b.rps.at(-1)} rps ${res.b.cpu.at(-1)} µs`,
    )
  }
  const ma = { rps: median(res.a.rps), cpu: median(res.a.cpu) }
  const mb = { rps: median(res.b.rps), cpu: median(res.b.cpu) }
  console.log(
    `median: A ${ma.rps} rps ${ma.cpu} µs/req | B ${mb.rps} rps ${mb.cpu} µs/req | A/B rps ${(ma.rps / mb.rps).toFixed(3)} cpu ${(ma.cpu / mb.cpu).toFixed(3)}`,
  )
  if (prof.length) {
    process.kill(-a.pid!, 'SIGTERM')
    await new Promise((r) => a.once('close', r))
  }
}

await runBench(main)
