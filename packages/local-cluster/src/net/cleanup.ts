// Undoes what a ledger lists: processes, netns, links, bridge, iptables hooks and chains, files
// under /etc/netns, sysctls. Every step tolerates "already gone", so it is safe after a crash and
// safe to run twice.
import { readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs'
import type { Logger } from 'pino'
import { type LedgerData, processStartTime } from '../ledger.ts'
import type { HostExec } from './exec.ts'

/** The alias every local-cluster bridge carries, so clusters can see each other. */
export const BRIDGE_ALIAS = 'minimesh-local-cluster'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** SIGTERM (to the process group too), then SIGKILL after `graceMs`; skips a pid that was reused. */
export async function killProcess(pid: number, startTime: string | undefined, graceMs = 3000): Promise<void> {
  if (startTime !== undefined && processStartTime(pid) !== startTime) return
  const signal = (sig: NodeJS.Signals) => {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, sig)
      } catch {}
    }
  }
  signal('SIGTERM')
  const until = Date.now() + graceMs
  while (Date.now() < until && alive(pid)) await sleep(50)
  if (alive(pid)) signal('SIGKILL')
  const hard = Date.now() + 2000
  while (Date.now() < hard && alive(pid) && processStartTime(pid) !== undefined) await sleep(20)
}

/** Every pid whose network namespace is `netns` (`ip netns pids`). */
export async function netnsPids(exec: HostExec, netns: string): Promise<number[]> {
  try {
    const out = await exec.run(['ip', 'netns', 'pids', netns])
    return out
      .split(/\s+/)
      .filter(Boolean)
      .map(Number)
      .filter((n) => Number.isInteger(n) && n > 0)
  } catch {
    return []
  }
}

async function quiet(exec: HostExec, argv: string[]): Promise<boolean> {
  try {
    await exec.run(argv)
    return true
  } catch {
    return false
  }
}

/** Removes everything the ledger lists. Returns a short account of what was removed. */
export async function cleanupHost(data: LedgerData, exec: HostExec, log?: Logger): Promise<string[]> {
  const done: string[] = []
  // Processes first: a netns with a process in it outlives `ip netns del`.
  const recorded = data.processes.filter((p) => processStartTime(p.pid) === p.startTime)
  await Promise.all(recorded.map((p) => killProcess(p.pid, p.startTime, 2000)))
  if (recorded.length) done.push(`${recorded.length} process(es)`)
  let inNetns = 0
  for (const ns of data.netns) {
    const pids = await netnsPids(exec, ns)
    inNetns += pids.length
    await Promise.all(pids.map((pid) => killProcess(pid, processStartTime(pid), 500)))
  }
  if (inNetns) done.push(`${inNetns} process(es) left in pod netns`)
  let netns = 0
  for (const ns of data.netns) if (await quiet(exec, ['ip', 'netns', 'del', ns])) netns++
  if (netns) done.push(`${netns} netns`)
  let links = 0
  for (const link of data.links) if (await quiet(exec, ['ip', 'link', 'del', link])) links++
  if (links) done.push(`${links} veth(s)`)
  if (data.bridge && (await quiet(exec, ['ip', 'link', 'del', data.bridge])))
    done.push(`bridge ${data.bridge}`)
  let rules = 0
  for (const h of data.hooks) {
    // A hook added twice (never by us, but be thorough) is removed as often as it is there.
    for (
      let i = 0;
      i < 10 && (await quiet(exec, ['iptables', '-w', '-t', h.table, '-D', h.chain, ...h.spec]));
      i++
    )
      rules++
  }
  const chains = [...data.chains]
  if (data.chainPrefix) {
    const saved = await exec.run(['iptables-save', '-t', 'nat']).catch(() => '')
    for (const line of saved.split('\n')) {
      const m = /^:(\S+)/.exec(line)
      if (m?.[1]?.startsWith(data.chainPrefix)) chains.push({ table: 'nat', chain: m[1] })
    }
  }
  // Flush all first, then delete: chains may jump to each other.
  for (const c of chains) await quiet(exec, ['iptables', '-w', '-t', c.table, '-F', c.chain])
  let deleted = 0
  for (const c of chains) if (await quiet(exec, ['iptables', '-w', '-t', c.table, '-X', c.chain])) deleted++
  if (rules || deleted) done.push(`${rules} iptables rule(s), ${deleted} chain(s)`)
  for (const dir of data.etcDirs) rmSync(dir, { recursive: true, force: true })
  if (data.etcDirs.length) done.push(`${data.etcDirs.length} /etc/netns dir(s)`)
  if (data.madeEtcNetns) {
    try {
      if (readdirSync('/etc/netns').length === 0) rmdirSync('/etc/netns')
    } catch {}
  }
  // Another local cluster still running (its bridge carries our alias) needs forwarding on.
  const others = await exec.run(['ip', '-j', 'link', 'show', 'type', 'bridge']).catch(() => '[]')
  const shared = (JSON.parse(others || '[]') as { ifalias?: string }[]).some(
    (l) => l.ifalias === BRIDGE_ALIAS,
  )
  for (const s of shared ? [] : [...data.sysctls].reverse()) {
    try {
      writeFileSync(s.path, s.previous)
    } catch (err) {
      log?.warn({ err, path: s.path }, 'could not restore sysctl')
    }
  }
  if (data.sysctls.length) done.push(`${data.sysctls.length} sysctl(s) restored`)
  log?.info({ removed: done }, 'host cleaned')
  return done
}
