// mesh-init's arguments (istio-iptables' short flags) from the config and the pod's
// traffic.sidecar.minimesh.dev/* annotations.
import { isIP } from 'node:net'
import { PROXY_GID } from '@minimesh/api/ports'
import type { InjectConfig } from '../config.ts'
import { InjectError } from '../errors.ts'
import { TrafficAnnotation } from '../names.ts'

function badAnnotation(key: string, message: string): InjectError {
  return new InjectError('MESH_ERR_INJECT_BAD_ANNOTATION', `annotation ${key}: ${message}`)
}

function items(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
}

function ports(key: string, value: string | undefined, allowStar: boolean): string[] | '*' | undefined {
  if (value === undefined) return undefined
  if (allowStar && value.trim() === '*') return '*'
  return items(value).map((p) => {
    const n = Number(p)
    if (!/^\d+$/.test(p) || n < 1 || n > 65535) throw badAnnotation(key, `"${p}" is not a TCP port`)
    return String(n)
  })
}

function cidrs(key: string, value: string | undefined, allowStar: boolean): string[] | '*' | undefined {
  if (value === undefined) return undefined
  if (allowStar && value.trim() === '*') return '*'
  return items(value).map((c) => {
    const [addr = '', prefix, ...rest] = c.split('/')
    const family = isIP(addr)
    const max = family === 6 ? 128 : 32
    const okPrefix = prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= max)
    if (family === 0 || rest.length > 0 || !okPrefix)
      throw badAnnotation(key, `"${c}" is not an IP address or CIDR`)
    return c
  })
}

function uniq(list: string[]): string[] {
  return [...new Set(list)]
}

/**
 * The init container's args, e.g. with the defaults (@minimesh/api/ports)
 * `-p <outbound> -z <inbound> -u <uid> -m REDIRECT -i * -x "" -b * -d <prom>,<health>,<status>`: where the proxy
 * listens (the same ports the sidecar's flags give it), its uid, and its own ports left alone.
 * Throws MESH_ERR_INJECT_BAD_ANNOTATION for a malformed traffic annotation.
 */
export function initArgs(config: InjectConfig, annotations: Record<string, string> = {}): string[] {
  const a = TrafficAnnotation
  const includeOut = cidrs(a.includeOutboundIPRanges, annotations[a.includeOutboundIPRanges], true) ?? '*'
  const excludeOut = cidrs(a.excludeOutboundIPRanges, annotations[a.excludeOutboundIPRanges], false) ?? []
  const includeIn = ports(a.includeInboundPorts, annotations[a.includeInboundPorts], true) ?? '*'
  const excludeIn = ports(a.excludeInboundPorts, annotations[a.excludeInboundPorts], false) ?? []
  const excludeOutPorts = ports(a.excludeOutboundPorts, annotations[a.excludeOutboundPorts], false) ?? []
  const includeOutPorts = ports(a.includeOutboundPorts, annotations[a.includeOutboundPorts], false) ?? []
  const list = (v: string[] | '*') => (v === '*' ? '*' : v.join(','))
  const args = [
    '-p',
    String(config.outboundCapturePort),
    '-z',
    String(config.inboundCapturePort),
    '-u',
    String(config.proxyUid),
  ]
  // mesh-init's -g defaults to the contract's gid: spelt out only when it differs.
  if (config.proxyGid !== PROXY_GID) args.push('-g', String(config.proxyGid))
  args.push(
    '-m',
    'REDIRECT',
    '-i',
    list(includeOut),
    '-x',
    uniq([...config.excludeOutboundCidrs, ...(excludeOut as string[])]).join(','),
    '-b',
    list(includeIn),
    '-d',
    uniq(
      [config.promPort, config.healthPort, config.statusPort, ...config.excludeInboundPorts]
        .map(String)
        .concat(excludeIn as string[]),
    ).join(','),
  )
  const outPorts = uniq([...config.excludeOutboundPorts.map(String), ...(excludeOutPorts as string[])])
  if (outPorts.length) args.push('-o', outPorts.join(','))
  if ((includeOutPorts as string[]).length) args.push('-q', (includeOutPorts as string[]).join(','))
  return args
}
