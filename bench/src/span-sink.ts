/**
 * A trace collector for the benchmarks, run as its own process (bench/src/tracing-cost.ts starts it):
 * it answers every POST 202 and counts the spans per path, Zipkin v2 JSON (an array) or OTLP/HTTP
 * JSON (resourceSpans → scopeSpans → spans); GET /counts gives them. Its own process, so that the
 * benchmark's synchronous wrk runs never leave an exporter's POST unanswered, and its CPU time is
 * not the proxy's. Prints its port on stdout once listening.
 */
import http from 'node:http'
import type net from 'node:net'

interface OtlpBody {
  resourceSpans?: { scopeSpans?: { spans?: unknown[] }[] }[]
}

function spansIn(body: unknown): number {
  if (Array.isArray(body)) return body.length
  let n = 0
  for (const r of (body as OtlpBody).resourceSpans ?? [])
    for (const s of r.scopeSpans ?? []) n += s.spans?.length ?? 0
  return n
}

const counts: Record<string, number> = {}
const server = http.createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(counts))
    return
  }
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    const path = req.url ?? '/'
    try {
      counts[path] = (counts[path] ?? 0) + spansIn(JSON.parse(Buffer.concat(chunks).toString()))
    } catch {
      counts[`${path} (unparsable)`] = (counts[`${path} (unparsable)`] ?? 0) + 1
    }
    res.writeHead(202).end()
  })
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as net.AddressInfo).port}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
