// A real Zipkin server for the tracing scenario: the `io.zipkin:zipkin-server` executable jar that
// scripts/ensure-zipkin.sh fetches from Maven Central (cached in ~/.cache/minimesh), run with the
// machine's Java, in-memory storage, listening on every address (pods on the local cluster reach it
// at the bridge address 198.18.0.1). (packages/proxy/src/testdata/zipkin.ts is the same for the
// proxy's own tests, which cannot import from here.)
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import net from 'node:net'
import { fileURLToPath } from 'node:url'

const ENSURE = fileURLToPath(new URL('../../scripts/ensure-zipkin.sh', import.meta.url))

export interface ZipkinSpan {
  traceId: string
  id: string
  parentId?: string
  kind?: string
  name?: string
  timestamp?: number
  duration?: number
  localEndpoint?: { serviceName?: string; ipv4?: string }
  tags?: Record<string, string>
}

export interface Zipkin {
  port: number
  trace(traceId: string): Promise<ZipkinSpan[]>
  waitForTrace(traceId: string, n: number, timeoutMs?: number): Promise<ZipkinSpan[]>
  close(): Promise<void>
}

/** Why Zipkin cannot run here, or undefined. */
export function zipkinSkipReason(): string | undefined {
  try {
    execFileSync('java', ['-version'], { stdio: 'ignore' })
  } catch {
    return 'Java is not installed (Zipkin needs Java 17 or newer)'
  }
  return undefined
}

async function freePort(): Promise<number> {
  const srv = net.createServer()
  await new Promise<void>((r) => srv.listen(0, '0.0.0.0', r))
  const port = (srv.address() as net.AddressInfo).port
  await new Promise<void>((r) => srv.close(() => r()))
  return port
}

export async function startZipkin(): Promise<Zipkin> {
  const jar = execFileSync('bash', [ENSURE], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim()
  const port = await freePort()
  const child: ChildProcess = spawn(
    'java',
    ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xms64m', '-Xmx256m', '-jar', jar],
    {
      env: { ...process.env, QUERY_PORT: String(port), STORAGE_TYPE: 'mem' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
  let stderr = ''
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000)
  })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 120_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`zipkin exited ${child.exitCode}: ${stderr}`)
    try {
      const r = await fetch(`${url}/health`)
      if (r.ok) break
    } catch {
      // not yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`zipkin did not come up in 120 s: ${stderr}`)
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  const trace = async (traceId: string): Promise<ZipkinSpan[]> => {
    const r = await fetch(`${url}/api/v2/trace/${traceId}`)
    if (r.status === 404) return []
    if (!r.ok) throw new Error(`zipkin /api/v2/trace/${traceId}: ${r.status}`)
    return (await r.json()) as ZipkinSpan[]
  }
  return {
    port,
    trace,
    async waitForTrace(traceId, n, timeoutMs = 20_000) {
      const end = Date.now() + timeoutMs
      let spans: ZipkinSpan[] = []
      while (Date.now() < end) {
        spans = await trace(traceId)
        if (spans.length >= n) return spans
        await new Promise((r) => setTimeout(r, 250))
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
