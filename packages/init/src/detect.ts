// What the pod has: which iptables backend holds its rules, and whether it has an IPv6 address.
import { type NetworkInterfaceInfo, networkInterfaces } from 'node:os'
import { INSTALL_IPTABLES_HINT, InitError } from './errors.ts'
import type { BackendChoice } from './options.ts'
import { isClean, parseSave } from './restore-script.ts'
import type { IpFamily } from './rules.ts'
import { type Backend, binaryName, onPath, runCommand } from './runner.ts'

/** True when some interface other than lo has a global or ULA IPv6 address (link-local does not count). */
export function podHasIpv6(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces()): boolean {
  return Object.values(interfaces).some((addresses) =>
    (addresses ?? []).some(
      (a) =>
        (a.family === 'IPv6' || (a.family as unknown) === 6) &&
        !a.internal &&
        !/^fe[89ab][0-9a-f]:/i.test(a.address),
    ),
  )
}

/** Backends whose save and restore binaries are installed, for a family. */
export function availableBackends(family: IpFamily = 4, path = process.env.PATH): Backend[] {
  return (['nft', 'legacy', 'default'] as const).filter(
    (b) => onPath(binaryName(b, family, 'save'), path) && onPath(binaryName(b, family, 'restore'), path),
  )
}

/**
 * Whether the legacy (x_tables) nat table exists in this network namespace. Asking
 * iptables-legacy-save would create it, so look at /proc/net/ip{,6}_tables_names instead.
 */
async function legacyHasNat(family: IpFamily = 4, commandPrefix: readonly string[] = []): Promise<boolean> {
  const file = family === 6 ? '/proc/net/ip6_tables_names' : '/proc/net/ip_tables_names'
  try {
    const { stdout } = await runCommand([...commandPrefix, 'cat', file])
    return stdout.split('\n').includes('nat')
  } catch {
    return false // the module is not loaded: no legacy table anywhere
  }
}

/** The backends that may hold a nat table of ours: nft if installed, legacy only if its nat table exists. */
export async function backendsToInspect(
  family: IpFamily = 4,
  options: DetectOptions = {},
): Promise<Backend[]> {
  const available = availableBackends(family, options.path)
  const variants = available.filter((b) => b !== 'default')
  if (variants.length === 0) return available
  const result: Backend[] = []
  for (const backend of variants) {
    if (backend === 'nft' || (await legacyHasNat(family, options.commandPrefix))) result.push(backend)
  }
  return result
}

export interface DetectOptions {
  commandPrefix?: readonly string[]
  path?: string
}

/**
 * The backend to use, as Istio picks it: the one that already holds our rules, else the one with
 * (more) rules in its nat table, else the one `iptables` itself is (iptables --version).
 */
export async function detectBackend(choice: BackendChoice, options: DetectOptions = {}): Promise<Backend> {
  const available = availableBackends(4, options.path)
  if (available.length === 0) {
    throw new InitError(
      'MESH_ERR_IPTABLES_MISSING',
      `iptables is not installed (no iptables-save/iptables-restore on PATH); install it with: ${INSTALL_IPTABLES_HINT}`,
    )
  }
  if (choice !== 'auto') {
    if (!available.includes(choice)) {
      throw new InitError(
        'MESH_ERR_IPTABLES_MISSING',
        `${binaryName(choice, 4, 'restore')} is not installed; install it with: ${INSTALL_IPTABLES_HINT}`,
      )
    }
    return choice
  }
  const variants = available.filter((b) => b !== 'default')
  if (variants.length === 0) return 'default'
  const prefix = options.commandPrefix ?? []
  const seen: { backend: Backend; ours: boolean; rules: number }[] = []
  for (const backend of await backendsToInspect(4, options)) {
    const { stdout } = await runCommand([...prefix, binaryName(backend, 4, 'save'), '-t', 'nat'])
    const saved = parseSave(stdout)
    seen.push({ backend, ours: !isClean(saved), rules: saved.rules.length })
  }
  const ours = seen.find((s) => s.ours)
  if (ours) return ours.backend
  const busiest = [...seen].sort((a, b) => b.rules - a.rules)[0]
  if (busiest && busiest.rules > 0) return busiest.backend
  if (available.includes('default')) {
    const { stdout } = await runCommand([...prefix, 'iptables', '--version']).catch(() => ({ stdout: '' }))
    if (/legacy/.test(stdout) && variants.includes('legacy')) return 'legacy'
    if (/nf_tables/.test(stdout) && variants.includes('nft')) return 'nft'
  }
  return variants.includes('nft') ? 'nft' : (variants[0] ?? 'default')
}
