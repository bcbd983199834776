/**
 * Helpers for the Bookinfo apps' tests: run an app's real `main.ts` as a child process, and find a
 * loopback port nothing listens on (to play a service that is down).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { createInterface } from 'node:readline'

export interface SpawnedMain {
  readonly child: ChildProcess
  readonly port: number
  readonly url: string
  /** Every stdout line so far (JSON log lines). */
  readonly lines: readonly string[]
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Sends `signal` (default SIGTERM) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/**
 * Starts `node --conditions=@minimesh/source <mainPath>` with `env` over the current environment
 * (PORT=0 and HOST=127.0.0.1 unless given), and waits for its `listening` log line.
 */
export async function spawnMain(
  mainPath: string,
  env: Record<string, string> = {},
  timeoutMs = 15_000,
): Promise<SpawnedMain> {
  const child = spawn(process.execPath, ['--conditions=@minimesh/source', mainPath], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(
        new Error(
          `${mainPath} did not log "listening" within ${timeoutMs} ms\n${lines.join('\n')}\n${stderr}`,
        ),
      )
    }, timeoutMs)
    exited.then(({ code, signal }) => {
      clearTimeout(timer)
      reject(
        new Error(
          `${mainPath} exited (code ${code}, signal ${signal}) before listening\n${lines.join('\n')}\n${stderr}`,
        ),
      )
    })
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line)
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number }
        if (entry.msg === 'listening' && typeof entry.port === 'number') {
          clearTimeout(timer)
          resolve(entry.port)
        }
      } catch {
        // not a JSON line: kept in `lines` for the failure message
      }
    })
  })
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    lines,
    exited,
    stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
}

/** A loopback port that was free a moment ago and has nothing listening: connections are refused. */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/**
 * The acceptance region of an equal-tailed exact binomial test: counts x out of n trials for which
 * neither P(X ≤ x) nor P(X ≥ x) is at most alpha/2 under success probability p. A count outside
 * [low, high] rejects "the rate is p" at significance alpha.
 */
export function binomialAcceptance(n: number, p: number, alpha: number): { low: number; high: number } {
  const pmf: number[] = []
  let logChoose = 0
  for (let k = 0; k <= n; k++) {
    if (k > 0) logChoose += Math.log(n - k + 1) - Math.log(k)
    pmf.push(Math.exp(logChoose + k * Math.log(p) + (n - k) * Math.log(1 - p)))
  }
  let low = 0
  for (let cdf = pmf[0]!; cdf <= alpha / 2; cdf += pmf[low]!) low++
  let high = n
  for (let sf = pmf[n]!; sf <= alpha / 2; sf += pmf[high]!) high--
  return { low, high }
}
