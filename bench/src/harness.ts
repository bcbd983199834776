/**
 * What the proxy benchmarks share: the processes they start (nginx, mesh-proxy, each in its own
 * process group, all stopped on exit), wrk runs with the CPU time a process group spent per request,
 * and latency at a fixed rate. mesh-proxy runs as production images run it: the compiled build
 * (bin/mesh-proxy.js → dist/), rebuilt first when missing or older than the sources.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { StaticConfig } from '@minimesh/proxy'
import { Pool } from 'undici'
import { groupCpuSeconds } from './procfs.ts'
import { fixedRate, round, summarize } from './stats.ts'

export { ensureBuilt } from './build.ts'
export { freePort, waitPort } from './ports.ts'

export const WRK_ARGS = ['-t1', '-c64']
export const WARM_S = 2
export const RUN_S = 6
export const LATENCY_RATE = 1000
export const LATENCY_S = 10
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const MESH_PROXY = join(ROOT, 'packages/proxy/bin/mesh-proxy.js')
/** The child's environment: no source condition (it would load TypeScript sources instead). */
const CHILD_ENV = { ...process.env, NODE_OPTIONS: '' }

export const dir = mkdtempSync(join(tmpdir(), 'bench-proxy-'))
const children: ChildProcess[] = []

function has(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

export function ensureTools(): void {
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

export function start(cmd: string, args: string[], name: string, keepStdout = false): ChildProcess {
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

export function startNginx(name: string, body: string): ChildProcess {
  const file = join(dir, `${name}.conf`)
  writeFileSync(file, `${NGINX_COMMON(name)}\n${body}\n}\n`)
  return start('nginx', ['-c', file, '-p', dir], name)
}

export function startMeshProxy(
  config: StaticConfig,
  name: string,
  extra: string[] = [],
  nodeFlags: string[] = [],
  entry = MESH_PROXY,
): ChildProcess {
  const file = join(dir, `${name}.json`)
  writeFileSync(file, JSON.stringify(config))
  return start(
    process.execPath,
    [
      ...nodeFlags,
      entry,
      'router',
      '--config',
      file,
      '--admin-port',
      '0',
      '--stats-port',
      '0',
      '--health-port',
      '0',
      '--prom-port',
      '0',
      '--log-level',
      'warn',
      ...extra,
    ],
    name,
    nodeFlags.length > 0,
  )
}

export function wrkRun(port: number, seconds: number): { rps: number; requests: number } {
  const out = execFileSync('wrk', [...WRK_ARGS, `-d${seconds}s`, `http://127.0.0.1:${port}/`], {
    encoding: 'utf8',
  })
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out)
  const n = /(\d+) requests in/.exec(out)
  if (!m || !n) throw new Error(`cannot read wrk output:\n${out}`)
  if (/Non-2xx or 3xx responses/.test(out)) throw new Error(`errors through port ${port}:\n${out}`)
  return { rps: Number(m[1]), requests: Number(n[1]) }
}

export function wrk(port: number, seconds: number): number {
  return wrkRun(port, seconds).rps
}

/**
 * Requests per second through `port` after a warm-up, and the CPU time the process group behind
 * it spent per request meanwhile (µs): steadier than rps on a shared machine, and what limits a
 * single-process proxy.
 */
export function measureRps(port: number, pgid: number): { rps: number; cpuUs: number; requests: number } {
  const warm = wrkRun(port, WARM_S)
  const before = groupCpuSeconds(pgid)
  const run = wrkRun(port, RUN_S)
  const cpu = groupCpuSeconds(pgid) - before
  return {
    rps: Math.round(run.rps),
    cpuUs: round((cpu / run.requests) * 1e6, 1),
    requests: warm.requests + run.requests,
  }
}

type Latency = { p50: number; p99: number }

/**
 * Latency at the fixed rate: the first window after warm-up (start-up), then the next one (steady
 * state), with the CPU time the `groups` spent per request in the steady window (µs).
 */
export async function latency(
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

let stopping = false
const alive = (c: ChildProcess) => c.exitCode === null && c.signalCode === null

export function signalGroup(c: Pick<ChildProcess, 'pid'>, signal: NodeJS.Signals): void {
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

/** Runs a benchmark's main, then stops every process it started and removes the scratch directory. */
export async function runBench(main: () => Promise<void>): Promise<void> {
  try {
    await main()
  } finally {
    await stopGracefully()
    rmSync(dir, { recursive: true, force: true })
  }
}
