// Load-balancing key stage: the request's consistent-hash key for RING_HASH clusters (header,
// source IP, query parameter or cookie, Istio's consistentHash). A cookie that is absent while a
// ttl is set is made here and sent back with the response, so the next request sticks (Envoy).
import { randomUUID } from 'node:crypto'
import { fnv1a } from '../cluster/lb.ts'
import type { RequestState } from './state.ts'

function cookieValue(header: string | string[] | undefined, name: string): string | undefined {
  const text = Array.isArray(header) ? header.join('; ') : (header ?? '')
  const prefix = `${name}=`
  for (const part of text.split(';')) {
    const p = part.trim()
    if (p.startsWith(prefix)) return p.slice(prefix.length)
  }
  return undefined
}

export function hashKey(s: RequestState): undefined {
  const cfg = s.cluster?.config
  const hp = cfg?.hashPolicy
  if (!hp || cfg.lbPolicy !== 'RING_HASH') return undefined
  const view = s.view!
  if (hp.header !== undefined) {
    const v = view.headers[hp.header.toLowerCase()]
    if (v !== undefined) s.hash = fnv1a(Array.isArray(v) ? v.join(',') : v)
  } else if (hp.sourceIp) s.hash = fnv1a(s.conn.remoteAddress)
  else if (hp.queryParameter !== undefined) {
    view.params ??= new URLSearchParams(view.query)
    const v = view.params.get(hp.queryParameter)
    if (v !== null) s.hash = fnv1a(v)
  } else if (hp.cookie) {
    const v = cookieValue(view.headers.cookie, hp.cookie.name)
    if (v !== undefined) s.hash = fnv1a(v)
    else if (hp.cookie.ttlMs !== undefined) {
      const value = randomUUID().replaceAll('-', '')
      const attrs = [`${hp.cookie.name}=${value}`, `Path=${hp.cookie.path ?? '/'}`, 'HttpOnly']
      if (hp.cookie.ttlMs > 0) attrs.push(`Max-Age=${Math.floor(hp.cookie.ttlMs / 1000)}`)
      s.setCookie = attrs.join('; ')
      s.hash = fnv1a(value)
    }
  }
  return undefined
}
