// Inbound policy stage: on the inbound path, before the request (or Upgrade) reaches the
// application, the server-side hook decides: quota today, authorization and authentication as
// further hooks. A denial is a local reply with the hook's status, body, flag and headers; a hook
// that fails is MESH_ERR_PROXY_POLICY (500). A hook that answers synchronously costs no promise.
import { ProxyError } from '../errors.ts'
import type { InboundRequestInfo, PolicyDecision } from '../policy.ts'
import type { LocalReply } from './local-reply.ts'
import type { RequestState } from './state.ts'

function inboundInfo(s: RequestState): InboundRequestInfo {
  const flat = s.headers
  const headers: Record<string, string> = {}
  for (let i = 0; i < flat.length; i += 2) headers[flat[i]!] = flat[i + 1]!
  const { conn, rec } = s
  const id = s.ctx.identity
  return {
    method: rec.method,
    path: rec.path,
    host: rec.authority,
    headers,
    requestId: rec.requestId,
    source: rec.source,
    sourceAddress: conn.remoteAddress,
    destination: {
      port: conn.originalPort,
      workload: id.workload,
      namespace: id.namespace,
      serviceAccount: id.serviceAccount,
      labels: id.labels,
    },
    quotas: conn.chain.quotas ?? [],
  }
}

function toReply(d: PolicyDecision): LocalReply | undefined {
  if (d.allow) return undefined
  const headers: string[] | undefined = d.headers && Object.entries(d.headers).flat()
  return { status: d.status, body: d.body, flag: d.flag, headers }
}

function policyFailed(cause: unknown): never {
  throw new ProxyError('MESH_ERR_PROXY_POLICY', 'inbound policy check failed', { cause })
}

export function checkInboundPolicy(
  s: RequestState,
): LocalReply | undefined | Promise<LocalReply | undefined> {
  const policy = s.ctx.inboundPolicy
  if (s.conn.direction !== 'INBOUND' || !policy) return undefined
  let d: PolicyDecision | Promise<PolicyDecision>
  try {
    d = policy.check(inboundInfo(s))
  } catch (err) {
    policyFailed(err)
  }
  return d instanceof Promise ? d.then(toReply, policyFailed) : toReply(d)
}
