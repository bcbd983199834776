// Body stage: how the request body travels upstream. A body that may have to be sent again (the
// route retries, or mirrors) and is small enough is read whole first; a body of unknown length on
// a retrying route is streamed while a copy is kept (replayable once it has ended within the
// limit); anything else is streamed, and then the request is tried once only.
import { PassThrough, type Readable } from 'node:stream'
import { ProxyError } from '../errors.ts'
import type { DownstreamRequest } from '../http/downstream.ts'
import type { RequestRecord } from '../http/record.ts'
import type { RequestState } from './state.ts'

/** Largest body kept in memory so a request can be retried or mirrored. */
const MAX_BUFFERED_BODY = 64 * 1024

function readBody(req: DownstreamRequest): Promise<Buffer> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.once('end', () => resolveBody(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)))
    req.once('error', (cause) =>
      reject(new ProxyError('MESH_ERR_PROXY_DOWNSTREAM_RESET', 'request body broke off', { cause })),
    )
  })
}

/**
 * A body of unknown length (HTTP/1 chunked; HTTP/2 without content-length, as every gRPC call)
 * streamed upstream while a copy of up to `limit` bytes is kept: once the body has ended within
 * the limit, `replay` gives it whole, so the request can be retried.
 */
function replayable(
  req: DownstreamRequest,
  limit: number,
  rec: RequestRecord,
): { body: Readable; replay: () => Buffer | undefined } {
  const chunks: Buffer[] = []
  let size = 0
  let ended = false
  req.on('data', (c: Buffer) => {
    size += c.length
    if (size <= limit) chunks.push(c)
    else chunks.length = 0
  })
  req.once('end', () => {
    ended = true
    rec.bytesReceived = size
  })
  const body = new PassThrough()
  req.pipe(body)
  return { body, replay: () => (ended && size <= limit ? Buffer.concat(chunks) : undefined) }
}

export function prepareBody(s: RequestState): Promise<undefined> | undefined {
  const route = s.route
  s.retry = route?.retry
  const { contentLength, chunked } = s.facts
  const len = contentLength === undefined ? 0 : Number(contentLength)
  if (!chunked && !(len > 0)) return undefined
  const wantsCopy = s.retry !== undefined || route?.raw.route?.mirror !== undefined
  if (wantsCopy && !chunked && len <= MAX_BUFFERED_BODY) {
    return readBody(s.req).then((body) => {
      s.rec.bytesReceived = body.length
      s.body = body
      return undefined
    })
  }
  if (chunked && s.retry) {
    const copy = replayable(s.req, MAX_BUFFERED_BODY, s.rec)
    s.body = copy.body
    s.replay = copy.replay
    return undefined
  }
  // Streamed body of a known length over the copy limit (or no retries): one try only.
  s.retry = undefined
  s.body = s.req
  s.rec.bytesReceived = len
  return undefined
}
