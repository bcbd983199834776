// What the proxy benchmark reads about its processes from /proc: CPU time of a process group,
// resident memory split into anonymous (private to the process: heaps, buffers) and file-backed
// pages (mostly the node binary, shared by every sidecar on a node), and the garbage
// collections V8 reports with --trace-gc.
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import type { Readable } from 'node:stream'

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100

/** CPU seconds (user + system) used so far by every process in a process group (nginx: master and worker). */
export function groupCpuSeconds(pgid: number): number {
  let ticks = 0
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    } catch {
      continue // gone meanwhile
    }
    // Fields after the command name (which may hold spaces): state is field 3, pgrp 5, utime 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (Number(f[2]) === pgid) ticks += Number(f[11]) + Number(f[12])
  }
  return ticks / CLOCK_TICKS
}

/** Resident memory (MB) of a process: total, anonymous (heaps, buffers) and file-backed (the node binary's code and data). */
export function rssOf(pid: number): { total: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string) =>
    Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN) / 1024
  return { total: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') }
}

export interface GcCounts {
  scavenge: number
  markCompact: number
}

/** Counts the collections a `--trace-gc` process prints on `stdout`; read `counts` whenever. */
export function countGc(stdout: Readable): { counts: GcCounts } {
  const counts: GcCounts = { scavenge: 0, markCompact: 0 }
  let rest = ''
  stdout.setEncoding('utf8')
  stdout.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n')
    rest = lines.pop() ?? ''
    for (const line of lines) {
      if (line.includes(' Scavenge') || line.includes('Minor Mark')) counts.scavenge++
      else if (line.includes('Mark-Compact') || line.includes('Mark-sweep')) counts.markCompact++
    }
  })
  return { counts }
}
