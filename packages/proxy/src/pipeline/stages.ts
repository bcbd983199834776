// The request path, in order. HTTP/1.x, HTTP/2 and Upgrade requests share every stage but the
// last: how the request leaves (an HTTP exchange with retries, or a tunnel). Authorization is a
// stage of its own (before routing, as Envoy's RBAC filter before the router); quota and other
// server-side hooks run in checkInboundPolicy.
//
//   readFacts          headers and facts (x-request-id, x-forwarded-*, peer metadata, the route view)
//   startSpan          tracing: trace context in, sampling, this proxy's span, trace headers out
//   checkAuthorization AuthorizationPolicies: inbound only                           (403 RBAC)
//   resolveRoute       route configuration → virtual host → route → weighted cluster   (404 NR, 503 NC)
//   checkInboundPolicy quota, authorization: inbound only                             (429 RL, 403, …)
//   injectFault        delay and/or abort                                              (DI, FI)
//   answerOrRewrite    direct response, redirect; else header operations and rewrite
//   hashKey            consistent-hash key (RING_HASH)
//   prepareBody        HTTP: buffer the body when a retry or a mirror may resend it
//   forward / tunnel   HTTP: Exchange (retries, timeouts); Upgrade: joined sockets
import { decideFault } from '../http/fault.ts'
import { Exchange } from '../http/forward.ts'
import { mirror } from '../http/mirror.ts'
import { addFlag, Flag } from '../http/record.ts'
import { openTunnel } from '../http/upgrade.ts'
import { checkAuthorization } from './authorization.ts'
import { prepareBody } from './body.ts'
import { readFacts } from './facts.ts'
import { hashKey } from './lb-key.ts'
import type { LocalReply } from './local-reply.ts'
import { checkInboundPolicy } from './policy.ts'
import { answerOrRewrite, resolveRoute } from './route.ts'
import type { Stage, StageResult } from './runner.ts'
import type { RequestState } from './state.ts'
import { startSpan } from './tracing.ts'

function abortReply(status: number): LocalReply {
  return { status, body: 'fault filter abort', flag: Flag.FaultInjected }
}

/** Fault injection: the delay (which the route timeout does not include), then the abort. */
function injectFault(s: RequestState): StageResult | Promise<StageResult> {
  const fault = decideFault(s.route?.raw.fault)
  if (fault.delayMs > 0) {
    addFlag(s.rec, Flag.DelayInjected)
    const after = fault.abortStatus ? abortReply(fault.abortStatus) : undefined
    return new Promise((resolve) => {
      const t = setTimeout(resolve, fault.delayMs, after)
      // A client that leaves does not keep the timer (nor a draining proxy) waiting.
      if (s.res) s.res.once('close', () => clearTimeout(t))
      else s.tunnel!.socket.once('close', () => clearTimeout(t))
    })
  }
  return fault.abortStatus ? abortReply(fault.abortStatus) : undefined
}

/** HTTP dispatch: a mirrored copy when the route asks for one, then the exchange with the cluster. */
function forward(s: RequestState): undefined {
  const action = s.route?.raw.route
  if (action?.mirror && Math.random() * 100 < action.mirror.percent) {
    const mc = s.ctx.store.current.clusters.get(action.mirror.cluster)
    if (mc && (s.body === null || Buffer.isBuffer(s.body)))
      mirror(mc, s.rec.method, s.path, s.headers, s.body)
  }
  new Exchange(s).start()
  return undefined
}

const COMMON: readonly Stage[] = [
  readFacts,
  startSpan,
  checkAuthorization,
  resolveRoute,
  checkInboundPolicy,
  injectFault,
  answerOrRewrite,
  hashKey,
]

export const HTTP_STAGES: readonly Stage[] = [...COMMON, prepareBody, forward]

export const UPGRADE_STAGES: readonly Stage[] = [...COMMON, openTunnel]
