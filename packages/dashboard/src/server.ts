// The dashboard's web server (fastify): the static page (public/: plain HTML, JS and SVG, no build
// step), GET /api/state (the current state as JSON) and GET /api/events (Server-Sent Events: the
// state after every refresh, so the page updates without reloading), /healthz/ready. A refresh
// loop runs while the server listens.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import type { MeshEndpoints } from './access/http.ts'
import { Collector, type DashboardState } from './collector.ts'
import { DashboardError } from './errors.ts'

const PUBLIC_DIR = join(import.meta.dirname, '..', 'public')
const STATIC: Record<string, string> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/app.js': 'app.js',
  '/style.css': 'style.css',
}
const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
}

export interface DashboardOptions {
  endpoints: MeshEndpoints
  /** host:port to listen on (default 127.0.0.1:0: a free port on loopback). */
  host?: string
  port?: number
  /** Refresh interval (default 2 s). */
  intervalMs?: number
  windowSeconds?: number
  zipkinUrl?: string
}

export interface Dashboard {
  url: string
  app: FastifyInstance
  /** The newest state (refreshed at least once before start resolves). */
  state(): DashboardState | undefined
  close(): Promise<void>
}

/** Starts the dashboard: one refresh, then listen, then refresh every interval. */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const collector = new Collector({
    endpoints: options.endpoints,
    ...(options.windowSeconds ? { windowSeconds: options.windowSeconds } : {}),
    ...(options.zipkinUrl ? { zipkinUrl: options.zipkinUrl } : {}),
  })
  const listeners = new Set<(s: DashboardState) => void>()
  const app = Fastify({ logger: false })

  app.get('/healthz/ready', async (_req, reply) => reply.type('text/plain').send('ok\n'))
  for (const [route, file] of Object.entries(STATIC)) {
    app.get(route, async (_req, reply) => {
      const body = await readFile(join(PUBLIC_DIR, file), 'utf8')
      return reply.type(TYPES[file.split('.').pop()!]!).header('cache-control', 'no-store').send(body)
    })
  }
  app.get('/api/state', async (_req, reply) => {
    const s = collector.state
    if (!s) return reply.code(503).type('text/plain').send('no state yet\n')
    return s
  })
  app.get('/api/events', (req, reply) => {
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    })
    const send = (s: DashboardState) => res.write(`event: state\ndata: ${JSON.stringify(s)}\n\n`)
    if (collector.state) send(collector.state)
    listeners.add(send)
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000)
    req.raw.on('close', () => {
      clearInterval(ping)
      listeners.delete(send)
    })
  })

  let stopped = false
  let timer: NodeJS.Timeout | undefined
  const interval = options.intervalMs ?? 2000
  const loop = async () => {
    const s = await collector.refresh()
    for (const l of listeners) l(s)
    if (!stopped) timer = setTimeout(loop, interval)
  }
  await collector.refresh()
  const host = options.host ?? '127.0.0.1'
  try {
    await app.listen({ host, port: options.port ?? 0 })
  } catch (err) {
    throw new DashboardError(
      'MESH_ERR_DASHBOARD_LISTEN',
      `cannot listen on ${host}:${options.port ?? 0}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { cause: err },
    )
  }
  timer = setTimeout(loop, interval)
  const addr = app.server.address()
  const port = typeof addr === 'object' && addr ? addr.port : options.port
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host
  return {
    url: `http://${shown}:${port}/`,
    app,
    state: () => collector.state,
    async close() {
      stopped = true
      clearTimeout(timer)
      // Server-Sent Event streams are hijacked: end them so close() does not wait for the browser.
      app.server.closeAllConnections()
      await app.close()
    },
  }
}
