// What a test compares before and after a cluster's life: netns, links, iptables rules (user
// chains and rules only: an empty table that nft keeps around is no rule), /etc/netns and the
// processes that run in netns named with the test's prefix.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'

export interface HostSnapshot {
  netns: string[]
  links: string[]
  iptables: string[]
  etcNetns: string[]
}

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' })
  } catch {
    return ''
  }
}

export function hostSnapshot(): HostSnapshot {
  return {
    netns: run('ip', ['netns', 'list'])
      .split('\n')
      .map((l) => l.split(' ')[0]!)
      .filter(Boolean)
      .sort(),
    links: run('ip', ['-o', 'link', 'show'])
      .split('\n')
      .map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '')
      .filter(Boolean)
      .sort(),
    iptables: run('iptables-save', [])
      .split('\n')
      .filter(
        (l) =>
          l.startsWith('-A ') ||
          (l.startsWith(':') && !/^:(PREROUTING|INPUT|OUTPUT|POSTROUTING|FORWARD) /.test(l)),
      )
      .map((l) => l.replace(/\[\d+:\d+\]/, ''))
      .sort(),
    etcNetns: existsSync('/etc/netns') ? readdirSync('/etc/netns').sort() : [],
  }
}

/** Entries of `after` not in `before` that carry one of our names. */
export function leftovers(before: HostSnapshot, after: HostSnapshot, marks: string[]): string[] {
  const out: string[] = []
  for (const key of ['netns', 'links', 'iptables', 'etcNetns'] as const) {
    for (const v of after[key])
      if (!before[key].includes(v) && marks.some((m) => v.includes(m))) out.push(`${key}: ${v}`)
  }
  return out
}

/**
 * iptables lines added or removed between `before` and `after`, less those of the host's other
 * tenants, which may come and go while a test runs: another local cluster (its own `MMT<n>` chains,
 * e.g. a test file running beside this one), a Kubernetes (KUBE-*, CNI-*) and podman (NETAVARK*).
 * What is left is this test's doing: a rule of ours without our chain name shows up here too.
 */
export function iptablesChanges(before: HostSnapshot, after: HostSnapshot, ownChains: string): string[] {
  const others = new RegExp(`\\bMMT(?!${ownChains.slice(3)}\\b)\\w*-|\\b(KUBE|CNI|NETAVARK)[-_]`)
  const added = after.iptables.filter((l) => !before.iptables.includes(l)).map((l) => `+ ${l}`)
  const removed = before.iptables.filter((l) => !after.iptables.includes(l)).map((l) => `- ${l}`)
  return [...added, ...removed].filter((l) => !others.test(l))
}

/** Pids with `mark` as one of their argv items (processes a test started and expects gone). */
export function processesMentioning(mark: string): number[] {
  const pids: number[] = []
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue
    try {
      const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0')
      if (argv.includes(mark)) pids.push(Number(d))
    } catch {}
  }
  return pids
}

export function canRunNetns(): string | undefined {
  if (process.getuid?.() !== 0)
    return 'needs root (CAP_NET_ADMIN) to create netns, a bridge and iptables rules'
  for (const bin of ['ip', 'iptables', 'iptables-restore', 'setpriv']) {
    if (!run('sh', ['-c', `command -v ${bin}`]).trim()) return `${bin} is not installed`
  }
  return undefined
}
