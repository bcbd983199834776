// Probes as the kubelet runs them: httpGet and tcpSocket from the host to the pod's address over
// the bridge, exec inside the pod's netns. Thresholds and periods from the spec, Kubernetes' defaults.
import { spawn } from 'node:child_process'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { connect } from 'node:net'
import type { Container, Probe } from '@minimesh/api/kube'
import { wrapArgv } from './process.ts'

export interface ProbeTarget {
  podIp: string
  netns?: string
  container: Container
  uid: number
  gid: number
  env: Record<string, string>
}

function resolvePort(port: number | string, c: Container): number {
  if (typeof port === 'number') return port
  if (/^\d+$/.test(port)) return Number(port)
  const named = c.ports?.find((p) => p.name === port)
  return named?.containerPort ?? -1
}

/** One probe attempt: true on success. */
function probeOnce(p: Probe, t: ProbeTarget): Promise<boolean> {
  const timeoutMs = (p.timeoutSeconds ?? 1) * 1000
  if (p.httpGet) {
    const g = p.httpGet
    const port = resolvePort(g.port, t.container)
    const https = (g.scheme ?? 'HTTP').toUpperCase() === 'HTTPS'
    const headers: Record<string, string> = { 'user-agent': 'kube-probe/1.30', accept: '*/*' }
    for (const h of g.httpHeaders ?? []) headers[h.name.toLowerCase()] = h.value
    return new Promise((resolve) => {
      const req = (https ? httpsRequest : httpRequest)(
        {
          host: g.host ?? t.podIp,
          port,
          path: g.path ?? '/',
          method: 'GET',
          headers,
          timeout: timeoutMs,
          rejectUnauthorized: false,
        },
        (res) => {
          res.resume()
          resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400)
        },
      )
      req.on('timeout', () => req.destroy())
      req.on('error', () => resolve(false))
      req.end()
    })
  }
  if (p.tcpSocket) {
    const port = resolvePort(p.tcpSocket.port, t.container)
    return new Promise((resolve) => {
      const s = connect({ host: p.tcpSocket!.host ?? t.podIp, port, timeout: timeoutMs })
      s.on('connect', () => {
        s.destroy()
        resolve(true)
      })
      s.on('timeout', () => {
        s.destroy()
        resolve(false)
      })
      s.on('error', () => resolve(false))
    })
  }
  if (p.exec) {
    const [cmd, ...args] = wrapArgv({ argv: p.exec.command, uid: t.uid, gid: t.gid, netns: t.netns })
    return new Promise((resolve) => {
      const child = spawn(cmd!, args, { env: t.env, stdio: 'ignore', timeout: timeoutMs })
      child.on('error', () => resolve(false))
      child.on('exit', (code) => resolve(code === 0))
    })
  }
  return Promise.resolve(true)
}

/**
 * A startupProbe as the kubelet runs it: from initialDelaySeconds on its period until it succeeds
 * (true) or fails failureThreshold times in a row (false; the kubelet then restarts the container).
 * Resolves false at once when `stopped()` turns true.
 */
export async function runStartupProbe(p: Probe, t: ProbeTarget, stopped: () => boolean): Promise<boolean> {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
  await sleep((p.initialDelaySeconds ?? 0) * 1000)
  let failures = 0
  for (;;) {
    if (stopped()) return false
    if (await probeOnce(p, t)) return true
    if (++failures >= (p.failureThreshold ?? 3)) return false
    await sleep((p.periodSeconds ?? 10) * 1000)
  }
}

/** Runs a probe on its period and reports state changes (success/failure thresholds applied). */
export class ProbeLoop {
  readonly #probe: Probe
  readonly #target: ProbeTarget
  readonly #onChange: (ok: boolean) => void
  #timer?: NodeJS.Timeout
  #ok = false
  #successes = 0
  #failures = 0
  #stopped = false

  constructor(probe: Probe, target: ProbeTarget, onChange: (ok: boolean) => void) {
    this.#probe = probe
    this.#target = target
    this.#onChange = onChange
  }

  get ok(): boolean {
    return this.#ok
  }

  start(initiallyOk = false): void {
    this.#ok = initiallyOk
    this.#timer = setTimeout(() => this.#tick(), (this.#probe.initialDelaySeconds ?? 0) * 1000)
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return
    const success = await probeOnce(this.#probe, this.#target)
    if (this.#stopped) return
    if (success) {
      this.#failures = 0
      this.#successes++
      if (!this.#ok && this.#successes >= (this.#probe.successThreshold ?? 1)) this.#set(true)
    } else {
      this.#successes = 0
      this.#failures++
      if (this.#ok && this.#failures >= (this.#probe.failureThreshold ?? 3)) this.#set(false)
    }
    this.#timer = setTimeout(() => this.#tick(), (this.#probe.periodSeconds ?? 10) * 1000)
  }

  #set(ok: boolean): void {
    this.#ok = ok
    this.#onChange(ok)
  }

  /** After a container restart: probe again from scratch. */
  reset(initiallyOk = false): void {
    this.#successes = 0
    this.#failures = 0
    if (this.#ok !== initiallyOk) this.#set(initiallyOk)
  }

  stop(): void {
    this.#stopped = true
    clearTimeout(this.#timer)
  }
}
