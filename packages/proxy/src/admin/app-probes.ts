// Kubelet probes rewritten by the injector: the kubelet calls the proxy's status port at
// /app-health/<container>/readyz|livez|startupz, and the proxy probes the app itself on 127.0.0.1
// (the proxy's uid, PROXY_UID, is never captured), answering with the app's status.
// The original probes arrive in MESH_KUBE_APP_PROBERS (JSON: path → prober).
import http from 'node:http'
import net from 'node:net'
import { ProxyError } from '../errors.ts'

export interface AppProber {
  httpGet?: { path: string; port: number; scheme?: string; httpHeaders?: { name: string; value: string }[] }
  tcpSocket?: { port: number }
  timeoutSeconds?: number
}

type Reply = [number, string, string]

function probeHttp(p: NonNullable<AppProber['httpGet']>, timeoutMs: number): Promise<Reply> {
  return new Promise((resolve) => {
    const headers = Object.fromEntries((p.httpHeaders ?? []).map((h) => [h.name, h.value]))
    const req = http.get(
      { host: '127.0.0.1', port: p.port, path: p.path, headers, agent: false, timeout: timeoutMs },
      (res) => {
        res.resume()
        const status = res.statusCode ?? 503
        resolve([
          status >= 200 && status < 400 ? status : status || 503,
          'text/plain',
          `app answered ${status}\n`,
        ])
      },
    )
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    req.on('error', (err) => resolve([503, 'text/plain', `app probe failed: ${err.message}\n`]))
  })
}

function probeTcp(port: number, timeoutMs: number): Promise<Reply> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port, timeout: timeoutMs }, () => {
      s.destroy()
      resolve([200, 'text/plain', 'app accepted a connection\n'])
    })
    s.on('timeout', () => s.destroy(new Error(`no connection within ${timeoutMs} ms`)))
    s.on('error', (err) => resolve([503, 'text/plain', `app probe failed: ${err.message}\n`]))
  })
}

/** Parses MESH_KUBE_APP_PROBERS; a bad value is a start-up error naming the variable. */
export function parseAppProbers(text: string | undefined): Record<string, AppProber> {
  if (!text) return {}
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new ProxyError(
      'MESH_ERR_PROXY_BAD_OPTION',
      `MESH_KUBE_APP_PROBERS is not JSON: ${(err as Error).message}`,
    )
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new ProxyError(
      'MESH_ERR_PROXY_BAD_OPTION',
      'MESH_KUBE_APP_PROBERS must be a JSON object of path → prober',
    )
  for (const [path, p] of Object.entries(value as Record<string, AppProber>)) {
    if (!path.startsWith('/app-health/') || !(p?.httpGet?.port || p?.tcpSocket?.port))
      throw new ProxyError(
        'MESH_ERR_PROXY_BAD_OPTION',
        `MESH_KUBE_APP_PROBERS[${JSON.stringify(path)}]: needs an /app-health/ path and httpGet.port or tcpSocket.port`,
      )
  }
  return value as Record<string, AppProber>
}

/** One handler per rewritten probe path, for the status server. */
export function appProbeHandlers(
  probers: Readonly<Record<string, AppProber>>,
): Record<string, () => Promise<Reply>> {
  return Object.fromEntries(
    Object.entries(probers).map(([path, p]) => {
      const timeoutMs = (p.timeoutSeconds ?? 1) * 1000
      return [
        path,
        () => (p.httpGet ? probeHttp(p.httpGet, timeoutMs) : probeTcp(p.tcpSocket!.port, timeoutMs)),
      ]
    }),
  )
}
