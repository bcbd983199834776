// mesh-init's flags: the short flags of Istio's istio-iptables, turned into CaptureOptions.
import { isIPv4, isIPv6 } from 'node:net'
import { parseArgs as parseNodeArgs } from 'node:util'
import {
  INBOUND_CAPTURE_PORT,
  OUTBOUND_CAPTURE_PORT,
  PROXY_GID,
  PROXY_INBOUND_PORTS,
  PROXY_UID,
} from '@minimesh/api/ports'
import { InitError } from './errors.ts'

/** '*' = every port / every address; a list = only those. */
export type Selection<T> = '*' | readonly T[]

export interface CaptureOptions {
  /** -p: where outbound TCP is redirected (the proxy's outbound listener). */
  proxyPort: number
  /** -z: where inbound TCP is redirected (the proxy's inbound listener). */
  inboundCapturePort: number
  /** -u: uids whose traffic is never captured (the proxy's). */
  proxyUids: readonly number[]
  /** -g: gids whose traffic is never captured (the proxy's). */
  proxyGids: readonly number[]
  /** -m: inbound interception mode; only REDIRECT is implemented. */
  mode: 'REDIRECT'
  /** -b: inbound ports to capture. */
  inboundPorts: Selection<number>
  /** -d: inbound ports never captured (only with -b '*'); the proxy's default own ports are always added. */
  inboundPortsExclude: readonly number[]
  /** -i: outbound destinations (CIDRs) to capture. */
  outboundCidrs: Selection<string>
  /** -x: outbound destinations (CIDRs) never captured. */
  outboundCidrsExclude: readonly string[]
  /** -o: outbound ports never captured. */
  outboundPortsExclude: readonly number[]
  /** -q: outbound ports always captured, whatever the destination. */
  outboundPortsInclude: readonly number[]
}

/**
 * The proxy's own default ports that inbound capture always leaves alone: Prometheus, health,
 * merged metrics. Other ones the injector chose come with -d.
 */
export const ALWAYS_EXCLUDED_INBOUND_PORTS: readonly number[] = PROXY_INBOUND_PORTS

export const DEFAULT_OPTIONS: CaptureOptions = {
  proxyPort: OUTBOUND_CAPTURE_PORT,
  inboundCapturePort: INBOUND_CAPTURE_PORT,
  proxyUids: [PROXY_UID],
  proxyGids: [PROXY_GID],
  mode: 'REDIRECT',
  inboundPorts: '*',
  inboundPortsExclude: [],
  outboundCidrs: '*',
  outboundCidrsExclude: [],
  outboundPortsExclude: [],
  outboundPortsInclude: [],
}

export type Ipv6Mode = 'auto' | 'on' | 'off'
export type BackendChoice = 'auto' | 'nft' | 'legacy'

export interface ParsedArgs {
  command: 'apply' | 'clean' | 'help'
  dryRun: boolean
  ipv6: Ipv6Mode
  backend: BackendChoice
  options: CaptureOptions
}

function badFlag(flag: string, message: string): InitError {
  return new InitError('MESH_ERR_IPTABLES_BAD_FLAG', `${flag}: ${message}`)
}

function split(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
}

function parseNumber(flag: string, text: string, min: number, max: number, what: string): number {
  if (!/^\d+$/.test(text)) throw badFlag(flag, `"${text}" is not a ${what}`)
  const n = Number(text)
  if (n < min || n > max) throw badFlag(flag, `${text} is not a ${what} (${min}–${max})`)
  return n
}

function parsePort(flag: string, text: string): number {
  return parseNumber(flag, text, 1, 65535, 'TCP port')
}

function parsePortList(flag: string, value: string): number[] {
  return [...new Set(split(value).map((p) => parsePort(flag, p)))]
}

function parseIdList(flag: string, value: string): number[] {
  const ids = [...new Set(split(value).map((id) => parseNumber(flag, id, 0, 4294967294, 'uid/gid')))]
  if (ids.length === 0) throw badFlag(flag, 'needs at least one id')
  return ids
}

/** Accepts `a.b.c.d/n`, `x::y/n`, or a bare address (taken as /32 or /128). */
export function parseCidr(flag: string, text: string): string {
  const [address = '', prefix, ...rest] = text.split('/')
  const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : 0
  if (family === 0 || rest.length > 0) throw badFlag(flag, `"${text}" is not an IP address or CIDR`)
  const max = family === 4 ? 32 : 128
  if (prefix === undefined) return `${address}/${max}`
  parseNumber(flag, prefix, 0, max, `prefix length for ${text}`)
  return `${address}/${Number(prefix)}`
}

function parseCidrList(flag: string, value: string): string[] {
  return [...new Set(split(value).map((c) => parseCidr(flag, c)))]
}

function parsePortSelection(flag: string, value: string): Selection<number> {
  return value.trim() === '*' ? '*' : parsePortList(flag, value)
}

function parseCidrSelection(flag: string, value: string): Selection<string> {
  return value.trim() === '*' ? '*' : parseCidrList(flag, value)
}

const FLAGS = {
  'proxy-port': { type: 'string', short: 'p' },
  'inbound-capture-port': { type: 'string', short: 'z' },
  'proxy-uid': { type: 'string', short: 'u' },
  'proxy-gid': { type: 'string', short: 'g' },
  'inbound-interception-mode': { type: 'string', short: 'm' },
  'inbound-ports': { type: 'string', short: 'b' },
  'inbound-ports-exclude': { type: 'string', short: 'd' },
  'outbound-cidrs': { type: 'string', short: 'i' },
  'outbound-cidrs-exclude': { type: 'string', short: 'x' },
  'outbound-ports-exclude': { type: 'string', short: 'o' },
  'outbound-ports': { type: 'string', short: 'q' },
  ipv6: { type: 'string' },
  backend: { type: 'string' },
  'dry-run': { type: 'boolean', short: 'n' },
  help: { type: 'boolean', short: 'h' },
} as const

export const USAGE = `Usage: mesh-init [flags]        install the pod's capture rules (idempotent)
       mesh-init clean [flags]  remove exactly the rules mesh-init installed
Flags (as istio-iptables):
  -p PORT   outbound capture port (${OUTBOUND_CAPTURE_PORT})          -z PORT   inbound capture port (${INBOUND_CAPTURE_PORT})
  -u UIDS   uids never captured (${PROXY_UID})             -g GIDS   gids never captured (${PROXY_GID})
  -m MODE   inbound interception mode: REDIRECT
  -b PORTS  inbound ports to capture, '*' = all, '' = none ('*')
  -d PORTS  inbound ports not captured with -b '*' (${PROXY_INBOUND_PORTS.join(',')} always)
  -i CIDRS  outbound destinations to capture, '*' = all, '' = none ('*')
  -x CIDRS  outbound destinations not captured
  -o PORTS  outbound ports not captured            -q PORTS  outbound ports always captured
  -n, --dry-run        print the iptables-restore input and change nothing
  --ipv6 auto|on|off   ip6tables rules too (auto: when the pod has a non-link-local IPv6 address)
  --backend auto|nft|legacy   iptables backend (auto: the one already holding rules, else the default)
  -h, --help`

/** mesh-init's argv (without node and the script) → what to do and with which options. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  let parsed: ReturnType<typeof parseNodeArgs<{ options: typeof FLAGS; allowPositionals: true }>>
  try {
    parsed = parseNodeArgs({ args: [...argv], options: FLAGS, allowPositionals: true, strict: true })
  } catch (cause) {
    throw new InitError('MESH_ERR_IPTABLES_BAD_FLAG', (cause as Error).message, { cause })
  }
  const { values: v, positionals } = parsed
  if (positionals.length > 1 || (positionals[0] !== undefined && positionals[0] !== 'clean')) {
    throw badFlag(positionals.join(' '), 'unknown command (the only command is `clean`)')
  }
  const mode = v['inbound-interception-mode'] ?? 'REDIRECT'
  if (mode !== 'REDIRECT') {
    throw new InitError(
      'MESH_ERR_IPTABLES_UNSUPPORTED',
      `-m ${mode}: only REDIRECT interception is implemented`,
    )
  }
  const ipv6 = v.ipv6 ?? 'auto'
  if (ipv6 !== 'auto' && ipv6 !== 'on' && ipv6 !== 'off') throw badFlag('--ipv6', 'must be auto, on or off')
  const backend = v.backend ?? 'auto'
  if (backend !== 'auto' && backend !== 'nft' && backend !== 'legacy') {
    throw badFlag('--backend', 'must be auto, nft or legacy')
  }
  const d = DEFAULT_OPTIONS
  const options: CaptureOptions = {
    proxyPort: v['proxy-port'] === undefined ? d.proxyPort : parsePort('-p', v['proxy-port']),
    inboundCapturePort:
      v['inbound-capture-port'] === undefined
        ? d.inboundCapturePort
        : parsePort('-z', v['inbound-capture-port']),
    proxyUids: v['proxy-uid'] === undefined ? d.proxyUids : parseIdList('-u', v['proxy-uid']),
    proxyGids: v['proxy-gid'] === undefined ? d.proxyGids : parseIdList('-g', v['proxy-gid']),
    mode,
    inboundPorts:
      v['inbound-ports'] === undefined ? d.inboundPorts : parsePortSelection('-b', v['inbound-ports']),
    inboundPortsExclude:
      v['inbound-ports-exclude'] === undefined
        ? d.inboundPortsExclude
        : parsePortList('-d', v['inbound-ports-exclude']),
    outboundCidrs:
      v['outbound-cidrs'] === undefined ? d.outboundCidrs : parseCidrSelection('-i', v['outbound-cidrs']),
    outboundCidrsExclude:
      v['outbound-cidrs-exclude'] === undefined
        ? d.outboundCidrsExclude
        : parseCidrList('-x', v['outbound-cidrs-exclude']),
    outboundPortsExclude:
      v['outbound-ports-exclude'] === undefined
        ? d.outboundPortsExclude
        : parsePortList('-o', v['outbound-ports-exclude']),
    outboundPortsInclude:
      v['outbound-ports'] === undefined ? d.outboundPortsInclude : parsePortList('-q', v['outbound-ports']),
  }
  return {
    command: v.help ? 'help' : positionals[0] === 'clean' ? 'clean' : 'apply',
    dryRun: v['dry-run'] ?? false,
    ipv6,
    backend,
    options,
  }
}
