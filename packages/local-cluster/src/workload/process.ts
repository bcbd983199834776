// One container as a process: `ip netns exec <netns> setpriv --reuid U --regid G -- argv…`, output
// appended to its log file, in its own process group, restarted after a crash with exponential
// backoff (1 s doubling to a 10 s cap, reset after 30 s of running) as the pod's restartPolicy says.
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import type { Logger } from 'pino'
import { killProcess } from '../net/cleanup.ts'

export interface ProcessSpec {
  name: string
  argv: string[]
  env: Record<string, string>
  uid: number
  gid: number
  /** Pod netns; undefined runs in the host netns (the control plane). */
  netns?: string
  logFile: string
  cwd?: string
}

/** The argv that runs `argv` in a netns as uid/gid (bind-mounting /etc/netns/<netns>/* over /etc). */
export function wrapArgv(spec: Pick<ProcessSpec, 'argv' | 'uid' | 'gid' | 'netns'>): string[] {
  const priv = ['setpriv', `--reuid=${spec.uid}`, `--regid=${spec.gid}`, '--clear-groups', '--']
  return spec.netns ? ['ip', 'netns', 'exec', spec.netns, ...priv, ...spec.argv] : [...priv, ...spec.argv]
}

export interface ProcessHooks {
  onStart?: (pid: number) => void
  onExit?: (pid: number, code: number | null, signal: string | null) => void
}

export const BACKOFF_START_MS = 1000
export const BACKOFF_CAP_MS = 10_000
const BACKOFF_RESET_MS = 30_000

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never'

export class ContainerProcess {
  readonly spec: ProcessSpec
  restartCount = 0
  state: 'waiting' | 'running' | 'terminated' = 'waiting'
  lastExit?: { code: number | null; signal: string | null; at: string }
  startedAt?: string
  #child?: ChildProcess
  #stopped = false
  #backoff = BACKOFF_START_MS
  #timer?: NodeJS.Timeout
  #exited?: Promise<void>
  readonly #log: Logger
  readonly #hooks: ProcessHooks

  constructor(spec: ProcessSpec, log: Logger, hooks: ProcessHooks = {}) {
    this.spec = spec
    this.#log = log.child({ container: spec.name })
    this.#hooks = hooks
  }

  get pid(): number | undefined {
    return this.#child?.pid
  }

  /** Starts once; resolves with the exit code (init containers). */
  runToCompletion(): Promise<{ code: number | null; signal: string | null }> {
    return new Promise((resolve) => {
      this.#spawn((code, signal) => resolve({ code, signal }))
    })
  }

  /** Starts and keeps it running under `policy`. */
  keepRunning(policy: RestartPolicy, onCrash?: () => void): void {
    const loop = () => {
      if (this.#stopped) return
      const began = Date.now()
      this.#spawn((code) => {
        if (this.#stopped) return
        onCrash?.()
        if (policy === 'Never' || (policy === 'OnFailure' && code === 0)) return
        if (Date.now() - began > BACKOFF_RESET_MS) this.#backoff = BACKOFF_START_MS
        const wait = this.#backoff
        this.#backoff = Math.min(this.#backoff * 2, BACKOFF_CAP_MS)
        this.restartCount++
        this.#log.warn(
          { code, restartInMs: wait, restarts: this.restartCount },
          'container exited; restarting',
        )
        this.#timer = setTimeout(loop, wait)
      })
    }
    loop()
  }

  #spawn(onExit: (code: number | null, signal: string | null) => void): void {
    mkdirSync(dirname(this.spec.logFile), { recursive: true })
    const fd = openSync(this.spec.logFile, 'a')
    const [cmd, ...args] = wrapArgv(this.spec)
    let child: ChildProcess
    try {
      child = spawn(cmd!, args, {
        env: this.spec.env,
        cwd: this.spec.cwd,
        stdio: ['ignore', fd, fd],
        detached: true,
      })
    } finally {
      closeSync(fd)
    }
    this.#child = child
    this.state = 'running'
    this.startedAt = new Date().toISOString()
    let done!: () => void
    this.#exited = new Promise((r) => {
      done = r
    })
    child.on('error', (err) => this.#log.error({ err }, 'container did not start'))
    if (child.pid !== undefined) this.#hooks.onStart?.(child.pid)
    child.on('exit', (code, signal) => {
      this.state = 'terminated'
      this.lastExit = { code, signal, at: new Date().toISOString() }
      if (child.pid !== undefined) this.#hooks.onExit?.(child.pid, code, signal)
      this.#log.info({ code, signal }, 'container exited')
      done()
      onExit(code, signal)
    })
  }

  /** Kills the process: SIGTERM to its group, SIGKILL after `graceMs`. No restart follows. */
  async stop(graceMs: number): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    const child = this.#child
    if (child?.pid !== undefined && this.state === 'running') {
      await killProcess(child.pid, undefined, graceMs)
      await Promise.race([this.#exited, new Promise((r) => setTimeout(r, 1000))])
    }
  }

  /** Kills the running process so that the restart policy starts a new one (liveness failure). */
  restartNow(): void {
    const pid = this.#child?.pid
    if (pid !== undefined && this.state === 'running') void killProcess(pid, undefined, 2000)
  }
}
