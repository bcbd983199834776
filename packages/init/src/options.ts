// mesh-init's flags: the short flags of Istio's istio-iptables, turned into CaptureOptions.
import { isIPv4, isIPv6 } from 'node:net'
import { defineOptions, invalid, portValue } from '@minimesh/api/options'
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

/** A uid or gid. */
function idValue(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 4294967294) invalid('not a uid/gid (0–4294967294)')
  return Number(text)
}

/** Accepts `a.b.c.d/n`, `x::y/n`, or a bare address (taken as /32 or /128). */
export function cidrValue(text: string): string {
  const [address = '', prefix, ...rest] = text.split('/')
  const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : 0
  if (family === 0 || rest.length > 0) invalid('not an IP address or CIDR')
  const max = family === 4 ? 32 : 128
  if (prefix === undefined) return `${address}/${max}`
  if (!/^\d+$/.test(prefix) || Number(prefix) > max) invalid(`not a prefix length (0–${max})`)
  return `${address}/${Number(prefix)}`
}

const d = DEFAULT_OPTIONS
/** Comma-separated, the last occurrence counting, as istio-iptables' flags. */
const list = { type: 'list', separator: ',', repeatable: false, unique: true } as const
const ports = { ...list, item: portValue(1), arg: 'PORTS' } as const

// Istio's istio-iptables short flags (keep them identical); the long names are mesh-init's own.
const INIT_OPTIONS = defineOptions(
  {
    'proxy-port': { type: 'port', min: 1, short: 'p', default: d.proxyPort, help: 'outbound capture port' },
    'inbound-capture-port': {
      type: 'port',
      min: 1,
      short: 'z',
      default: d.inboundCapturePort,
      help: 'inbound capture port',
    },
    'proxy-uid': {
      ...list,
      item: idValue,
      nonEmpty: true,
      short: 'u',
      arg: 'UIDS',
      default: d.proxyUids,
      help: 'uids never captured',
    },
    'proxy-gid': {
      ...list,
      item: idValue,
      nonEmpty: true,
      short: 'g',
      arg: 'GIDS',
      default: d.proxyGids,
      help: 'gids never captured',
    },
    'inbound-interception-mode': {
      type: 'enum',
      values: ['REDIRECT', 'TPROXY'],
      short: 'm',
      arg: 'MODE',
      default: d.mode,
      help: 'inbound interception mode: only REDIRECT is implemented',
    },
    'inbound-ports': {
      ...ports,
      all: '*',
      short: 'b',
      default: d.inboundPorts,
      defaultText: "'*'",
      help: "inbound ports to capture, '*' = all, '' = none",
    },
    'inbound-ports-exclude': {
      ...ports,
      short: 'd',
      help: `inbound ports not captured with -b '*' (${ALWAYS_EXCLUDED_INBOUND_PORTS.join(',')} always)`,
    },
    'outbound-cidrs': {
      ...list,
      item: cidrValue,
      all: '*',
      short: 'i',
      arg: 'CIDRS',
      default: d.outboundCidrs,
      defaultText: "'*'",
      help: "outbound destinations to capture, '*' = all, '' = none",
    },
    'outbound-cidrs-exclude': {
      ...list,
      item: cidrValue,
      short: 'x',
      arg: 'CIDRS',
      help: 'outbound destinations not captured',
    },
    'outbound-ports-exclude': { ...ports, short: 'o', help: 'outbound ports not captured' },
    'outbound-ports': { ...ports, short: 'q', help: 'outbound ports always captured' },
    'dry-run': { type: 'boolean', short: 'n', help: 'print the iptables-restore input and change nothing' },
    ipv6: {
      type: 'enum',
      values: ['auto', 'on', 'off'],
      default: 'auto',
      help: 'ip6tables rules too (auto: when the pod has a non-link-local IPv6 address)',
    },
    backend: {
      type: 'enum',
      values: ['auto', 'nft', 'legacy'],
      default: 'auto',
      help: 'iptables backend (auto: the one already holding rules, else the default)',
    },
    help: { type: 'boolean', short: 'h', help: 'this text' },
  },
  {
    usage: `Usage: mesh-init [flags]        install the pod's capture rules (idempotent)
       mesh-init clean [flags]  remove exactly the rules mesh-init installed`,
    heading: 'Flags (as istio-iptables):',
    allowPositionals: true,
    error: (message, { cause }) => new InitError('MESH_ERR_IPTABLES_BAD_FLAG', message, { cause }),
  },
)

export const USAGE = INIT_OPTIONS.usage()

/** mesh-init's argv (without node and the script) → what to do and with which options. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const { values: v, positionals } = INIT_OPTIONS.parse(argv)
  if (positionals.length > 1 || (positionals[0] !== undefined && positionals[0] !== 'clean')) {
    throw badFlag(positionals.join(' '), 'unknown command (the only command is `clean`)')
  }
  const mode = v['inbound-interception-mode']
  if (mode !== 'REDIRECT') {
    throw new InitError(
      'MESH_ERR_IPTABLES_UNSUPPORTED',
      `-m ${mode}: only REDIRECT interception is implemented`,
    )
  }
  const options: CaptureOptions = {
    proxyPort: v['proxy-port'],
    inboundCapturePort: v['inbound-capture-port'],
    proxyUids: v['proxy-uid'],
    proxyGids: v['proxy-gid'],
    mode,
    inboundPorts: v['inbound-ports'] as Selection<number>,
    inboundPortsExclude: v['inbound-ports-exclude'],
    outboundCidrs: v['outbound-cidrs'] as Selection<string>,
    outboundCidrsExclude: v['outbound-cidrs-exclude'],
    outboundPortsExclude: v['outbound-ports-exclude'],
    outboundPortsInclude: v['outbound-ports'],
  }
  return {
    command: v.help ? 'help' : positionals[0] === 'clean' ? 'clean' : 'apply',
    dryRun: v['dry-run'],
    ipv6: v.ipv6,
    backend: v.backend,
    options,
  }
}
