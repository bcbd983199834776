// A real Zipkin server for the tracing tests: the `io.zipkin:zipkin-server` executable jar that
// scripts/ensure-zipkin.sh fetches from Maven Central (cached in ~/.cache/minimesh), run with the
// machine's Java on a free port, in-memory storage, listening on every address (pods on the local
// cluster reach it at the bridge address). `zipkinSkipReason()` says why it cannot run. The e2e
// tracing scenarios use it too.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from './ports.ts'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../../..')

let jar: string | undefined
let jarError: string | undefined

/** The jar's path, fetched on first use; undefined (see zipkinSkipReason) when that cannot work. */
export function zipkinJar(): string | undefined {
  if (jar || jarError) return jar
  try {
    execFileSync('java', ['-version'], { stdio: 'ignore' })
  } catch {
    jarError = 'Java is not installed (Zipkin needs Java 17 or newer)'
    return undefined
  }
  try {
    jar = execFileSync('bash', [join(ROOT, 'scripts/ensure-zipkin.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 300_000,
    }).trim()
    if (!existsSync(jar)) throw new Error(`${jar} missing`)
  } catch (err) {
    jarError = `scripts/ensure-zipkin.sh could not fetch Zipkin: ${(err as Error).message}`
    jar = undefined
  }
  return jar
}

export function zipkinSkipReason(): string | undefined {
  zipkinJar()
  return jarError
}

export interface ZipkinSpanJson {
  traceId: string
  id: string
  parentId?: string
  kind?: string
  name?: string
  timestamp?: number
  duration?: number
  localEndpoint?: { serviceName?: string; ipv4?: string }
  remoteEndpoint?: { ipv4?: string; port?: number }
  tags?: Record<string, string>
}

export interface ZipkinServer {
  port: number
  /** Base URL as seen from this host, e.g. http://127.0.0.1:9411 */
  url: string
  /** POST target for spans. */
  spansUrl: string
  trace(traceId: string): Promise<ZipkinSpanJson[]>
  /** Polls until the trace has at least `n` spans (Zipkin stores asynchronously) or the deadline passes. */
  waitForTrace(traceId: string, n: number, timeoutMs?: number): Promise<ZipkinSpanJson[]>
  close(): Promise<void>
}

/** Starts Zipkin on `port` (default: a free one); resolves when /health says UP. */
export async function startZipkin(options: { port?: number; host?: string } = {}): Promise<ZipkinServer> {
  const path = zipkinJar()
  if (!path) throw new Error(jarError)
  const port = options.port ?? (await freePort())
  const host = options.host ?? '127.0.0.1'
  const child: ChildProcess = spawn(
    'java',
    ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xms64m', '-Xmx256m', '-jar', path],
    {
      env: { ...process.env, QUERY_PORT: String(port), STORAGE_TYPE: 'mem', JAVA_OPTS: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
  let stderr = ''
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000)
  })
  const url = `http://${host}:${port}`
  const deadline = Date.now() + 120_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`zipkin exited ${child.exitCode}: ${stderr}`)
    try {
      const r = await fetch(`${url}/health`)
      if (r.ok && ((await r.json()) as { status?: string }).status === 'UP') break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`zipkin did not come up on ${url} in 120 s: ${stderr}`)
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  const trace = async (traceId: string): Promise<ZipkinSpanJson[]> => {
    const r = await fetch(`${url}/api/v2/trace/${traceId}`)
    if (r.status === 404) return []
    if (!r.ok) throw new Error(`zipkin /api/v2/trace/${traceId}: ${r.status} ${await r.text()}`)
    return (await r.json()) as ZipkinSpanJson[]
  }
  return {
    port,
    url,
    spansUrl: `${url}/api/v2/spans`,
    trace,
    async waitForTrace(traceId, n, timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs
      let spans: ZipkinSpanJson[] = []
      while (Date.now() < end) {
        spans = await trace(traceId)
        if (spans.length >= n) return spans
        await new Promise((r) => setTimeout(r, 200))
      }
      return spans
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
        setTimeout(() => child.kill('SIGKILL'), 5000).unref()
      }),
  }
}
