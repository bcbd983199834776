// The two downstream ends a request can arrive on: an HTTP request (http/h1-server.ts for
// HTTP/1.x, node:http2's compatibility API for HTTP/2) answered on its response object, or an HTTP/1.1
// Upgrade answered on the raw client socket. Each makes the request's state, ties its end of life
// (the response's or the socket's 'close') to the record, and runs its stage list.
import type { Duplex } from 'node:stream'
import type { ProxyContext } from '../context.ts'
import type { DownstreamRequest, DownstreamResponse } from '../http/downstream.ts'
import type { H1Request } from '../http/h1-server.ts'
import type { ConnContext } from '../listeners/conn.ts'
import { runStages } from './runner.ts'
import { HTTP_STAGES, UPGRADE_STAGES } from './stages.ts'
import { RequestState } from './state.ts'

const kState = Symbol('minimesh.request')

type WithState = { [kState]?: RequestState }

/** One listener function for every request's 'close' (no closure per request). */
function finishOnClose(this: WithState): void {
  this[kState]?.closed()
}

/** Handles one request on an HTTP filter chain. */
export function handleHttpRequest(
  ctx: ProxyContext,
  conn: ConnContext,
  req: DownstreamRequest,
  res: DownstreamResponse,
): void {
  const s = new RequestState(ctx, conn, req, res, undefined)
  ;(res as DownstreamResponse & WithState)[kState] = s
  // 'close' comes once per response: on() spares once()'s wrapper on the hot path.
  res.on('close', finishOnClose)
  if (ctx.draining && 'shouldKeepAlive' in res) res.shouldKeepAlive = false
  runStages(s, HTTP_STAGES)
}

/** Handles an HTTP/1.1 request with `Connection: Upgrade` (WebSocket) on an HTTP filter chain. */
export function handleUpgradeRequest(
  ctx: ProxyContext,
  conn: ConnContext,
  req: H1Request,
  socket: Duplex,
  head: Buffer,
): void {
  const s = new RequestState(ctx, conn, req, undefined, { socket, head })
  socket.once('close', () => s.finish())
  runStages(s, UPGRADE_STAGES)
}
