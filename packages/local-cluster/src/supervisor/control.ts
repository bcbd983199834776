// Starting and stopping the supervisor: a detached background process with a pid file, so that
// the cluster outlives the `meshctl local up` that started it.
import { spawn } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { LocalClusterOptions } from '../cluster.ts'
import { LocalClusterError, type LocalClusterErrorCode } from '../errors.ts'
import { Ledger, processStartTime } from '../ledger.ts'
import { cleanupHost, killProcess } from '../net/cleanup.ts'
import { SpawnExec } from '../net/exec.ts'
import { checkRoot, checkTools } from '../net/preflight.ts'
import { defaultRunDir, runPaths } from '../paths.ts'
import { LocalClusterClient } from './client.ts'

export interface SupervisorStatus {
  running: boolean
  pid?: number
  /** A ledger without a live supervisor: a previous run crashed and left things behind. */
  leftovers: boolean
}

/** The entry file of the supervisor (the package's main, source or built). */
function supervisorEntry(): string {
  const self = fileURLToPath(import.meta.url)
  return self.replace(/supervisor\/control\.(ts|js)$/, (_m, ext: string) => `main.${ext}`)
}

export function supervisorStatus(runDir = defaultRunDir()): SupervisorStatus {
  const paths = runPaths(runDir)
  let pid: number | undefined
  if (existsSync(paths.pidFile)) {
    const [p, start] = readFileSync(paths.pidFile, 'utf8').trim().split(' ')
    const n = Number(p)
    if (
      Number.isInteger(n) &&
      n > 0 &&
      processStartTime(n) !== undefined &&
      (!start || processStartTime(n) === start)
    )
      pid = n
  }
  const ledger = Ledger.read(runDir)
  return {
    running: pid !== undefined,
    ...(pid !== undefined ? { pid } : {}),
    leftovers: pid === undefined && ledger !== undefined,
  }
}

export interface StartSupervisorOptions {
  runDir?: string
  cluster?: Omit<LocalClusterOptions, 'runDir' | 'logger' | 'exec'>
  timeoutMs?: number
}

/**
 * Starts the supervisor in the background and waits until it answers. Throws
 * MESH_ERR_LOCAL_ALREADY_RUNNING when one runs, or the supervisor's own start-up error.
 */
export async function startSupervisor(opts: StartSupervisorOptions = {}): Promise<LocalClusterClient> {
  checkRoot()
  checkTools()
  const runDir = opts.runDir ?? defaultRunDir()
  const paths = runPaths(runDir)
  const status = supervisorStatus(runDir)
  if (status.running) {
    throw new LocalClusterError(
      'MESH_ERR_LOCAL_ALREADY_RUNNING',
      `a local cluster is already running (pid ${status.pid}, run dir ${runDir})`,
    )
  }
  mkdirSync(runDir, { recursive: true })
  rmSync(paths.pidFile, { force: true })
  const fd = openSync(paths.supervisorLog, 'a')
  const entry = supervisorEntry()
  const argv = [
    ...(entry.endsWith('.ts') ? ['--conditions=@minimesh/source'] : []),
    entry,
    '--run-dir',
    runDir,
    '--options',
    JSON.stringify(opts.cluster ?? {}),
  ]
  const child = spawn(process.execPath, argv, {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, NODE_OPTIONS: '' },
  })
  closeSync(fd)
  let exited: number | null | undefined
  child.on('exit', (code) => {
    exited = code
  })
  child.unref()
  const client = new LocalClusterClient(runDir)
  const until = Date.now() + (opts.timeoutMs ?? 60_000)
  while (Date.now() < until) {
    if (exited !== undefined) {
      const tail = readFileSync(paths.supervisorLog, 'utf8')
        .trim()
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('minimesh-local: '))
      const m = tail && /^minimesh-local: (.*) \[(MESH_ERR_[A-Z_]+)\]$/.exec(tail)
      if (m) throw new LocalClusterError(m[2] as LocalClusterErrorCode, m[1]!)
      throw new LocalClusterError(
        'MESH_ERR_LOCAL_SUPERVISOR',
        `the supervisor exited with ${exited}; see ${paths.supervisorLog}`,
      )
    }
    if (existsSync(paths.pidFile)) {
      try {
        await client.info()
        return client
      } catch {}
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  if (child.pid) await killProcess(child.pid, undefined, 2000)
  throw new LocalClusterError(
    'MESH_ERR_LOCAL_TIMEOUT',
    `the supervisor did not answer within ${opts.timeoutMs ?? 60_000} ms; see ${paths.supervisorLog}`,
  )
}

/**
 * Takes the cluster down: through the supervisor when it runs, else (after a crash) straight from
 * the ledger. Returns what was removed; an empty list when there was nothing.
 */
export async function stopSupervisor(runDir = defaultRunDir(), timeoutMs = 60_000): Promise<string[]> {
  const status = supervisorStatus(runDir)
  const paths = runPaths(runDir)
  let removed: string[] = []
  if (status.running) {
    try {
      removed = await new LocalClusterClient(runDir).down()
    } catch {
      // It does not answer: stop it (it tears down on SIGTERM) and clean up whatever is left below.
      await killProcess(status.pid!, undefined, timeoutMs)
    }
    const until = Date.now() + timeoutMs
    while (processStartTime(status.pid!) !== undefined && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50))
  }
  const ledger = Ledger.read(runDir)
  if (ledger) {
    checkRoot()
    removed.push(...(await cleanupHost(ledger, new SpawnExec())))
    rmSync(paths.ledger, { force: true })
  }
  rmSync(paths.pidFile, { force: true })
  rmSync(paths.socket, { force: true })
  return removed
}
