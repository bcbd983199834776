import { Agent, type Dispatcher, request } from 'undici'

/** What a call to a peer service came to. */
export interface UpstreamResult {
  /** True when the peer answered 200 with a JSON body. */
  readonly ok: boolean
  /** The peer's status; 504 when it did not answer in time, 502 when it could not be reached or sent no JSON. */
  readonly status: number
  /** The parsed JSON body, when there was one. */
  readonly body?: unknown
  /** Why the call failed, for logs; absent when `ok`. */
  readonly error?: string
  /** Wall time of the call. */
  readonly durationMs: number
}

export interface UpstreamRequest {
  readonly dispatcher: Dispatcher
  readonly headers?: Record<string, string>
  /** The whole call (connect, headers and body) must finish within this. */
  readonly timeoutMs: number
  readonly method?: 'GET' | 'POST'
  readonly body?: string
}

/** One keep-alive connection pool per app for all its peers. Close it when the app closes. */
export function createUpstreamAgent(): Agent {
  return new Agent({ keepAliveTimeout: 4_000, connections: 64 })
}

/** Calls a peer and reads its JSON answer. Never throws: failures come back as a result with `ok: false`. */
export async function fetchJson(url: string, options: UpstreamRequest): Promise<UpstreamResult> {
  const started = performance.now()
  const signal = AbortSignal.timeout(options.timeoutMs)
  const elapsed = () => performance.now() - started
  try {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers }
    if (options.body !== undefined) headers['content-type'] = 'application/json'
    const response = await request(url, {
      dispatcher: options.dispatcher,
      method: options.method ?? 'GET',
      headers,
      body: options.body,
      signal,
    })
    const text = await response.body.text()
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      body = undefined
    }
    const status = response.statusCode
    if (status !== 200) return { ok: false, status, body, error: `status ${status}`, durationMs: elapsed() }
    if (body === undefined)
      return { ok: false, status: 502, error: 'response is not JSON', durationMs: elapsed() }
    return { ok: true, status, body, durationMs: elapsed() }
  } catch (err) {
    if (signal.aborted) {
      return {
        ok: false,
        status: 504,
        error: `no answer within ${options.timeoutMs} ms`,
        durationMs: elapsed(),
      }
    }
    const message = err instanceof Error ? `${err.message}${codeOf(err)}` : String(err)
    return { ok: false, status: 502, error: message, durationMs: elapsed() }
  }
}

function codeOf(err: Error): string {
  const code = (err as { code?: unknown }).code ?? (err.cause as { code?: unknown } | undefined)?.code
  return typeof code === 'string' ? ` (${code})` : ''
}
