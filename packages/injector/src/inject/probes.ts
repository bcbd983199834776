// App probe rewriting, Istio's way. Once inbound traffic is captured, a kubelet probe to the app's
// port would be answered by the proxy, not the app: a tcpSocket probe would always pass (the proxy
// accepts), and an httpGet probe would fail whenever the proxy is not ready or (with mTLS) always.
// So each httpGet/tcpSocket probe is pointed at the proxy's status port (config.statusPort, never captured) at
// `/app-health/<container>/readyz|livez|startupz`, and the original is handed to the proxy in the
// sidecar env MESH_KUBE_APP_PROBERS:
//   {"/app-health/web/readyz": {"httpGet": {"path": "/ready", "port": 8080, "scheme": "HTTP"}, "timeoutSeconds": 1}}
// The proxy answers those paths by probing the app on 127.0.0.1 as the proxy's uid, which is not captured,
// and returns the app's status code (2xx/3xx pass). Probes with an explicit host, exec and grpc
// probes, and probes naming a port the container does not declare are left as they are.
import type { Container, HttpGetAction, Probe } from '@minimesh/api/kube'

const PROBE_KINDS = ['readinessProbe', 'livenessProbe', 'startupProbe'] as const
export type ProbeKind = (typeof PROBE_KINDS)[number]

const SUFFIX: Record<ProbeKind, string> = {
  readinessProbe: 'readyz',
  livenessProbe: 'livez',
  startupProbe: 'startupz',
}

/** What the proxy needs to probe the app itself: one entry of MESH_KUBE_APP_PROBERS. */
export interface AppProber {
  httpGet?: { path: string; port: number; scheme: string; httpHeaders?: HttpGetAction['httpHeaders'] }
  tcpSocket?: { port: number }
  timeoutSeconds: number
}

export function appHealthPath(container: string, kind: ProbeKind): string {
  return `/app-health/${container}/${SUFFIX[kind]}`
}

function resolvePort(container: Container, port: number | string): number | undefined {
  if (typeof port === 'number') return port
  const named = container.ports?.find((p) => p.name === port)
  return named?.containerPort
}

function proberFor(container: Container, probe: Probe): AppProber | undefined {
  const timeoutSeconds = probe.timeoutSeconds ?? 1
  if (probe.httpGet) {
    if (probe.httpGet.host) return undefined
    const port = resolvePort(container, probe.httpGet.port)
    if (port === undefined) return undefined
    const httpGet: AppProber['httpGet'] = {
      path: probe.httpGet.path ?? '/',
      port,
      scheme: probe.httpGet.scheme ?? 'HTTP',
    }
    if (probe.httpGet.httpHeaders?.length) httpGet.httpHeaders = probe.httpGet.httpHeaders
    return { httpGet, timeoutSeconds }
  }
  if (probe.tcpSocket) {
    if (probe.tcpSocket.host) return undefined
    const port = resolvePort(container, probe.tcpSocket.port)
    return port === undefined ? undefined : { tcpSocket: { port }, timeoutSeconds }
  }
  return undefined
}

/** The probe with its handler replaced in place (same key position), pointing at the status port. */
function rewritten(probe: Probe, path: string, statusPort: number): Probe {
  const out: Probe = {}
  for (const [k, v] of Object.entries(probe)) {
    if (k === 'httpGet' || k === 'tcpSocket') out.httpGet = { path, port: statusPort, scheme: 'HTTP' }
    else out[k] = v
  }
  return out
}

export interface ProbeRewrite {
  /** Path on the status port → how to probe the app (MESH_KUBE_APP_PROBERS). */
  probers: Record<string, AppProber>
  /** container → probe kind → the original probe (for uninject). */
  originals: Record<string, Partial<Record<ProbeKind, Probe>>>
}

/** Rewrites the containers' probes in place (call on a copy). */
export function rewriteProbes(containers: Container[], statusPort: number): ProbeRewrite {
  const probers: ProbeRewrite['probers'] = {}
  const originals: ProbeRewrite['originals'] = {}
  for (const c of containers) {
    for (const kind of PROBE_KINDS) {
      const probe = c[kind]
      if (!probe) continue
      const prober = proberFor(c, probe)
      if (!prober) continue
      const path = appHealthPath(c.name, kind)
      probers[path] = prober
      originals[c.name] = { ...originals[c.name], [kind]: probe }
      c[kind] = rewritten(probe, path, statusPort)
    }
  }
  return { probers, originals }
}

/** Puts the original probes back (uninject). */
export function restoreProbes(containers: Container[], originals: ProbeRewrite['originals']): void {
  for (const c of containers) {
    const saved = originals[c.name]
    if (!saved) continue
    for (const kind of PROBE_KINDS) {
      const probe = saved[kind]
      if (probe) c[kind] = probe
    }
  }
}
