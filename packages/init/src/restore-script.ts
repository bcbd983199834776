// Pure functions over iptables-save output: what is already installed, and the iptables-restore
// input (for `--noflush`) that installs our rules exactly once, or removes exactly what we added.
import { OWNED_CHAINS, OWNED_COMMENTS } from './rules.ts'

export interface SavedRule {
  chain: string
  /** Everything after `-A <chain> `, exactly as iptables-save printed it. */
  spec: string
  comment: string | undefined
}

export interface SavedTable {
  /** Every chain declared in the table, built-in and user-defined. */
  chains: string[]
  rules: SavedRule[]
}

/** The `*<table>` section of iptables-save output (an absent table is empty). */
export function parseSave(text: string, table = 'nat'): SavedTable {
  const result: SavedTable = { chains: [], rules: [] }
  let inTable = false
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line.startsWith('*')) {
      inTable = line === `*${table}`
      continue
    }
    if (!inTable || line === '' || line.startsWith('#')) continue
    if (line === 'COMMIT') {
      inTable = false
      continue
    }
    if (line.startsWith(':')) {
      const name = line.slice(1).split(/\s+/)[0]
      if (name) result.chains.push(name)
      continue
    }
    const m = /^-A (\S+) (.*)$/.exec(line)
    if (m?.[1] && m[2] !== undefined) result.rules.push({ chain: m[1], spec: m[2], comment: commentOf(m[2]) })
  }
  return result
}

function commentOf(spec: string): string | undefined {
  const m = /--comment (?:"((?:[^"\\]|\\.)*)"|(\S+))/.exec(spec)
  if (!m) return undefined
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]
}

export interface OwnedState {
  /** Our chains that exist. */
  chains: string[]
  /** Our rules in chains that are not ours (the jumps from PREROUTING and OUTPUT). */
  foreignRules: SavedRule[]
}

export function ownedState(saved: SavedTable): OwnedState {
  return {
    chains: saved.chains.filter((c) => OWNED_CHAINS.includes(c)),
    foreignRules: saved.rules.filter(
      (r) => !OWNED_CHAINS.includes(r.chain) && r.comment !== undefined && OWNED_COMMENTS.has(r.comment),
    ),
  }
}

/** True when nothing of ours is installed. */
export function isClean(saved: SavedTable): boolean {
  const owned = ownedState(saved)
  return owned.chains.length === 0 && owned.foreignRules.length === 0
}

/**
 * Input for `iptables-restore --noflush` that leaves exactly one copy of `rules` (buildRules output):
 * declaring our chains flushes them, and our old jumps from built-in chains are deleted first, all
 * in one transaction.
 */
export function applyScript(rules: string, saved: SavedTable): string {
  const deletes = ownedState(saved).foreignRules.map((r) => `-D ${r.chain} ${r.spec}`)
  const lines = rules.split('\n')
  const firstRule = lines.findIndex((l) => l.startsWith('-A '))
  const at = firstRule === -1 ? lines.indexOf('COMMIT') : firstRule
  lines.splice(at, 0, ...deletes)
  return lines.join('\n')
}

/** Input for `iptables-restore --noflush` that removes what mesh-init added; undefined if nothing is there. */
export function cleanScript(saved: SavedTable): string | undefined {
  const owned = ownedState(saved)
  if (owned.chains.length === 0 && owned.foreignRules.length === 0) return undefined
  return [
    '*nat',
    ...owned.foreignRules.map((r) => `-D ${r.chain} ${r.spec}`),
    ...owned.chains.map((c) => `-F ${c}`),
    ...owned.chains.map((c) => `-X ${c}`),
    'COMMIT',
    '',
  ].join('\n')
}

/** iptables-save output without its `#` lines and with zeroed counters, for comparing states. */
export function normalizeSave(text: string): string {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]/g, '[0:0]'))
    .join('\n')
}
