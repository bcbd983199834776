import type { TypeUrl } from '../config/index.ts'
import type { Resource } from '../gen/minimesh/discovery/v1/Resource.ts'

/** Packs a configuration object into a wire Resource (JSON bytes). */
export function encodeResource(typeUrl: TypeUrl, name: string, value: unknown, version = ''): Resource {
  return { type_url: typeUrl, name, version, value: Buffer.from(JSON.stringify(value)) }
}

/** Unpacks a wire Resource; throws SyntaxError on bad JSON (the proxy NACKs with it). */
export function decodeResource(resource: { value?: Buffer | Uint8Array | string | null }): unknown {
  const v = resource.value
  if (v === undefined || v === null) return undefined
  const text = typeof v === 'string' ? v : Buffer.from(v).toString('utf8')
  return JSON.parse(text)
}

export type ProxyType = 'sidecar' | 'router'

export interface NodeIdParts {
  type: ProxyType
  ip: string
  /** `<pod>.<ns>` */
  id: string
  /** `<ns>.svc.cluster.local` */
  domain: string
}

/** `sidecar~<ip>~<pod>.<ns>~<ns>.svc.cluster.local`, Istio's node id. */
export function formatNodeId(type: ProxyType, ip: string, pod: string, namespace: string): string {
  return `${type}~${ip}~${pod}.${namespace}~${namespace}.svc.cluster.local`
}

export function parseNodeId(id: string): NodeIdParts | undefined {
  const parts = id.split('~')
  if (parts.length !== 4) return undefined
  const [type, ip, podNs, domain] = parts as [string, string, string, string]
  if (type !== 'sidecar' && type !== 'router') return undefined
  return { type, ip, id: podNs, domain }
}
