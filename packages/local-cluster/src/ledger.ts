// The record of everything the cluster made on the host (netns, veths, bridge, iptables rules and
// chains, hosts files, processes, sysctls changed), kept in <runDir>/ledger.json and written
// before each thing is made. `down`, and `up` after a crash, undo exactly what it lists.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { HookRule } from './net/service-rules.ts'

export interface LedgerProcess {
  pid: number
  /** /proc/<pid>/stat start time, so a reused pid is never killed. */
  startTime: string
  what: string
}

export interface LedgerData {
  version: 1
  bridge?: string
  /** Prefix of per-service chains (`MM-SVC-`), found and deleted by listing the tables. */
  chainPrefix?: string
  netns: string[]
  links: string[]
  hooks: HookRule[]
  chains: { table: 'nat' | 'filter'; chain: string }[]
  /** Directories under /etc/netns made for pods. */
  etcDirs: string[]
  /** True when /etc/netns itself was made by us (removed when empty at the end). */
  madeEtcNetns?: boolean
  processes: LedgerProcess[]
  sysctls: { path: string; previous: string }[]
}

function emptyLedger(): LedgerData {
  return { version: 1, netns: [], links: [], hooks: [], chains: [], etcDirs: [], processes: [], sysctls: [] }
}

export class Ledger {
  readonly file: string
  data: LedgerData

  constructor(runDir: string) {
    this.file = join(runDir, 'ledger.json')
    this.data = Ledger.read(runDir) ?? emptyLedger()
  }

  static read(runDir: string): LedgerData | undefined {
    const file = join(runDir, 'ledger.json')
    if (!existsSync(file)) return undefined
    try {
      return { ...emptyLedger(), ...(JSON.parse(readFileSync(file, 'utf8')) as Partial<LedgerData>) }
    } catch {
      return undefined
    }
  }

  update(fn: (d: LedgerData) => void): void {
    fn(this.data)
    mkdirSync(dirname(this.file), { recursive: true })
    const tmp = `${this.file}.${process.pid}.tmp`
    writeFileSync(tmp, `${JSON.stringify(this.data, null, 2)}\n`)
    renameSync(tmp, this.file)
  }

  addUnique<K extends 'netns' | 'links' | 'etcDirs'>(key: K, value: string): void {
    if (!this.data[key].includes(value)) this.update((d) => d[key].push(value))
  }

  remove<K extends 'netns' | 'links' | 'etcDirs'>(key: K, value: string): void {
    if (this.data[key].includes(value)) this.update((d) => (d[key] = d[key].filter((v) => v !== value)))
  }

  addProcess(p: LedgerProcess): void {
    this.update((d) => d.processes.push(p))
  }

  removeProcess(pid: number): void {
    if (this.data.processes.some((p) => p.pid === pid))
      this.update((d) => (d.processes = d.processes.filter((p) => p.pid !== pid)))
  }

  isEmpty(): boolean {
    const d = this.data
    return (
      !d.bridge &&
      d.netns.length + d.links.length + d.hooks.length + d.chains.length + d.etcDirs.length === 0 &&
      d.processes.length + d.sysctls.length === 0
    )
  }

  delete(): void {
    rmSync(this.file, { force: true })
    this.data = emptyLedger()
  }
}

/** The start time of a process (field 22 of /proc/<pid>/stat), or undefined when it is gone. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  } catch {
    return undefined
  }
}
