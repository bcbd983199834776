import { BookinfoError } from './errors.ts'

/** The process environment, or any plain map standing in for it. */
export type Env = Readonly<Record<string, string | undefined>>

/** The port every Bookinfo service listens on and calls its peers on, as in Kubernetes. */
export const DEFAULT_PORT = 9080

/** Reads a TCP port (0–65535) from `env[name]`, or returns `fallback` when it is unset or empty. */
export function readPort(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim()
  if (raw === undefined || raw === '') return fallback
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) {
    throw new BookinfoError('MESH_ERR_BOOKINFO_CONFIG', `${name}=${raw} is not a TCP port (0-65535)`)
  }
  return Number(raw)
}

/** The address to listen on: `HOST`, default every IPv4 address (a pod's own IP and loopback). */
export function readHost(env: Env): string {
  return env.HOST?.trim() || '0.0.0.0'
}

/** `LOG_LEVEL`, default `info`. */
export function readLogLevel(env: Env): string {
  const level = env.LOG_LEVEL?.trim() || 'info'
  const known = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']
  if (!known.includes(level)) {
    throw new BookinfoError(
      'MESH_ERR_BOOKINFO_CONFIG',
      `LOG_LEVEL=${level} is not one of ${known.join(', ')}`,
    )
  }
  return level
}

/**
 * The base URL of a peer service, built the way Istio's Bookinfo does:
 * `<SERVICE>_HOSTNAME` (default the service name), `SERVICES_DOMAIN` (appended after a dot when set)
 * and `<SERVICE>_SERVICE_PORT` (default 9080). `upstreamUrl(env, 'details')` is `http://details:9080`.
 */
export function upstreamUrl(env: Env, service: string): string {
  const key = service.toUpperCase()
  const host = env[`${key}_HOSTNAME`]?.trim() || service
  if (!/^[A-Za-z0-9.-]+$/.test(host)) {
    throw new BookinfoError(
      'MESH_ERR_BOOKINFO_CONFIG',
      `${key}_HOSTNAME=${host} is not a host name or IPv4 address`,
    )
  }
  const domain = env.SERVICES_DOMAIN?.trim() ? `.${env.SERVICES_DOMAIN.trim()}` : ''
  const port = readPort(env, `${key}_SERVICE_PORT`, DEFAULT_PORT)
  return `http://${host}${domain}:${port}`
}

/**
 * Parses a duration: `7s`, `250ms`, `1.5s`, or a bare number of milliseconds. Returns milliseconds.
 * Throws a config error naming `name` when the text is not a duration.
 */
export function parseDurationMs(text: string, name: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text.trim())
  if (!match) {
    throw new BookinfoError('MESH_ERR_BOOKINFO_CONFIG', `${name}=${text} is not a duration (e.g. 7s, 250ms)`)
  }
  const value = Number(match[1])
  return Math.round(match[2] === 's' ? value * 1000 : value)
}

/** Reads a duration from `env[name]` (see parseDurationMs), or `fallbackMs` when it is unset or empty. */
export function readDurationMs(env: Env, name: string, fallbackMs: number): number {
  const raw = env[name]?.trim()
  return raw ? parseDurationMs(raw, name) : fallbackMs
}

/** `true`/`false` (any case), default `fallback`; anything else is a config error. */
export function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase()
  if (raw === undefined || raw === '') return fallback
  if (raw === 'true') return true
  if (raw === 'false') return false
  throw new BookinfoError('MESH_ERR_BOOKINFO_CONFIG', `${name}=${env[name]} is not true or false`)
}

/**
 * A product id from a path segment: a non-negative decimal integer. Returns undefined for anything
 * else (the services answer 400 then).
 */
export function parseProductId(segment: string | undefined): number | undefined {
  if (segment === undefined || !/^\d{1,15}$/.test(segment)) return undefined
  return Number(segment)
}
