// The supervisor's API: HTTP/JSON on a unix socket in the run directory (root-only, like the
// cluster itself), so that `meshctl local apply|get|logs|exec|down` are separate invocations
// against one long-running cluster, as kubectl is against an API server.
import { closeSync, existsSync, openSync, readSync, rmSync, statSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { statusOf } from '@minimesh/api/errors'
import type { LocalCluster } from '../cluster.ts'
import { LocalClusterError } from '../errors.ts'
import type { ObjectRef } from '../kube/kinds.ts'

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = ''
  req.setEncoding('utf8')
  for await (const chunk of req) text += chunk
  if (!text) return {}
  try {
    return JSON.parse(text) as Record<string, unknown>
  } catch {
    throw new LocalClusterError('MESH_ERR_LOCAL_INVALID', 'request body is not JSON')
  }
}

function send(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

/** Streams a log file from `offset`; with follow, keeps sending what is appended until the client goes. */
function streamLog(res: ServerResponse, path: string, follow: boolean, cluster: LocalCluster): void {
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
  let offset = 0
  const pump = () => {
    if (!existsSync(path)) return
    const size = statSync(path).size
    if (size < offset) offset = 0
    if (size === offset) return
    const fd = openSync(path, 'r')
    try {
      const buf = Buffer.alloc(Math.min(size - offset, 1 << 20))
      const n = readSync(fd, buf, 0, buf.length, offset)
      offset += n
      res.write(buf.subarray(0, n))
    } finally {
      closeSync(fd)
    }
  }
  pump()
  if (!follow) {
    while (existsSync(path) && statSync(path).size > offset) pump()
    res.end()
    return
  }
  const timer = setInterval(pump, 200)
  const stop = () => {
    clearInterval(timer)
    res.end()
  }
  res.on('close', () => clearInterval(timer))
  cluster.once('down', stop)
}

export interface SupervisorServer {
  server: Server
  close(): Promise<void>
}

/** Serves `cluster` on `socketPath`; `onDown` runs after a /v1/down request has been answered. */
export async function serveCluster(
  cluster: LocalCluster,
  socketPath: string,
  onDown: () => void,
): Promise<SupervisorServer> {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://local')
    const q = (k: string) => url.searchParams.get(k) ?? undefined
    try {
      switch (`${req.method} ${url.pathname}`) {
        case 'GET /v1/info':
          return send(res, 200, {
            pid: process.pid,
            runDir: cluster.runDir,
            stateDir: cluster.stateDir,
            hostIp: cluster.hostIp,
            options: { ...cluster.options, images: cluster.options.images.map((i) => i.image) },
          })
        case 'POST /v1/apply': {
          const b = await body(req)
          return send(res, 200, {
            results: await cluster.apply((b.objects as Record<string, unknown>[]) ?? []),
          })
        }
        case 'POST /v1/delete': {
          const b = await body(req)
          const deleted = await cluster.delete((b.refs as ObjectRef[]) ?? [], {
            ignoreNotFound: b.ignoreNotFound === true,
          })
          return send(res, 200, { deleted })
        }
        case 'GET /v1/get':
          return send(res, 200, {
            items: cluster.get(q('kind') ?? '', q('namespace'), q('name'), q('selector')),
          })
        case 'GET /v1/logs':
          return streamLog(
            res,
            cluster.logPath(q('namespace') ?? 'default', q('pod') ?? '', q('container')),
            q('follow') === '1',
            cluster,
          )
        case 'GET /v1/exec-spec':
          return send(res, 200, cluster.execSpec(q('namespace') ?? 'default', q('pod') ?? '', q('container')))
        case 'GET /v1/readiness':
          return send(res, 200, cluster.readiness({ namespace: q('namespace'), selector: q('selector') }))
        case 'GET /v1/gateway-url':
          return send(res, 200, { url: cluster.gatewayUrl(q('name'), q('namespace')) })
        case 'POST /v1/down': {
          const removed = await cluster.down()
          send(res, 200, { removed })
          res.on('finish', onDown)
          return
        }
        default:
          return send(res, 404, {
            error: { code: 'MESH_ERR_LOCAL_NOT_FOUND', message: `no route ${req.method} ${url.pathname}` },
          })
      }
    } catch (err) {
      const e = err as Error & { code?: string }
      if (!res.headersSent)
        send(res, statusOf(err), {
          error: { code: e.code ?? 'MESH_ERR_LOCAL_SUPERVISOR', message: e.message },
        })
      else res.end()
    }
  })
  rmSync(socketPath, { force: true })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(socketPath, () => resolve())
  })
  return {
    server,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
        rmSync(socketPath, { force: true })
      }),
  }
}
