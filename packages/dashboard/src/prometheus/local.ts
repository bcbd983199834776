// The Prometheus addon on the local cluster: Debian's `prometheus` run as a child process with the
// addon's scrape jobs (prometheus/addon.ts), its targets kept current from the local cluster's
// pods and Endpoints every few seconds. Loopback only; its data lives in a temporary directory
// removed on close.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Endpoints, Pod } from '@minimesh/api/kube'
import { stringify } from 'yaml'
import { DashboardError } from '../errors.ts'
import { jobTargets, localConfig, type PrometheusConfig, readAddonConfig, targetsFile } from './addon.ts'

/** Where the pods and Endpoints come from (a LocalClusterClient fits). */
interface ObjectLister {
  get(kind: string): Promise<Record<string, unknown>[]>
}

export interface LocalPrometheusOptions {
  cluster: ObjectLister
  /** The prometheus binary (default: `prometheus` on PATH, as Debian's package installs it). */
  binary?: string
  /** Port on 127.0.0.1 (default: a free one). */
  port?: number
  addon?: PrometheusConfig
  refreshMs?: number
}

export interface LocalPrometheus {
  url: string
  /** Rewrites the target files now (also done every refreshMs). */
  refreshTargets(): Promise<void>
  close(): Promise<void>
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0))
    })
  })
}

function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text)
  renameSync(`${path}.tmp`, path)
}

export async function startLocalPrometheus(options: LocalPrometheusOptions): Promise<LocalPrometheus> {
  const addon = options.addon ?? readAddonConfig()
  const dir = mkdtempSync(join(tmpdir(), 'minimesh-prometheus-'))
  const targetsDir = join(dir, 'targets')
  const dataDir = join(dir, 'data')
  const configFile = join(dir, 'prometheus.yml')
  const port = options.port ?? (await freePort())
  const url = `http://127.0.0.1:${port}`

  const refreshTargets = async () => {
    const [pods, endpoints] = await Promise.all([
      options.cluster.get('pods'),
      options.cluster.get('endpoints'),
    ])
    const jobs = jobTargets(addon, pods as Pod[], endpoints as Endpoints[])
    for (const [job, groups] of jobs)
      writeAtomic(targetsFile(targetsDir, job), `${JSON.stringify(groups, null, 2)}\n`)
  }
  let child: ChildProcess | undefined
  let timer: NodeJS.Timeout | undefined
  const cleanup = () => {
    clearInterval(timer)
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    mkdirSync(targetsDir, { recursive: true })
    writeFileSync(configFile, stringify(localConfig(addon, targetsDir)))
    await refreshTargets()
    let log = ''
    child = spawn(
      options.binary ?? 'prometheus',
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${dataDir}`,
        '--storage.tsdb.retention.time=2h',
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    )
    child.stderr?.setEncoding('utf8')
    child.stderr?.on('data', (d: string) => {
      log = (log + d).slice(-4000)
    })
    const exited = new Promise<never>((_, reject) => {
      child!.once('error', (err) =>
        reject(
          new DashboardError(
            'MESH_ERR_DASHBOARD_PROMETHEUS',
            (err as NodeJS.ErrnoException).code === 'ENOENT'
              ? `no ${options.binary ?? 'prometheus'} binary: install Debian's prometheus package (scripts/ensure-host-deps.sh does, as root)`
              : `cannot start prometheus: ${err.message}`,
            { cause: err },
          ),
        ),
      )
      child!.once('exit', (code) =>
        reject(
          new DashboardError(
            'MESH_ERR_DASHBOARD_PROMETHEUS',
            `prometheus exited (${code}): ${log.trim().split('\n').slice(-3).join(' | ')}`,
          ),
        ),
      )
    })
    exited.catch(() => {})
    const ready = (async () => {
      for (;;) {
        try {
          if ((await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) })).ok) return
        } catch {}
        await new Promise((r) => setTimeout(r, 200))
      }
    })()
    const deadline = new Promise<never>((_, reject) =>
      setTimeout(
        () =>
          reject(
            new DashboardError(
              'MESH_ERR_DASHBOARD_PROMETHEUS',
              `prometheus not ready at ${url} in 30 s: ${log.slice(-500)}`,
            ),
          ),
        30_000,
      ).unref(),
    )
    await Promise.race([ready, exited, deadline])
  } catch (err) {
    child?.kill('SIGTERM')
    cleanup()
    throw err
  }
  timer = setInterval(() => void refreshTargets().catch(() => {}), options.refreshMs ?? 5000)
  const proc = child
  return {
    url,
    refreshTargets,
    async close() {
      clearInterval(timer)
      if (proc.exitCode === null && proc.signalCode === null) {
        const gone = new Promise((r) => proc.once('exit', r))
        proc.kill('SIGTERM')
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000)
        await gone
        clearTimeout(t)
      }
      cleanup()
    },
  }
}
