import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** Percentile (0–100) of a sample, by nearest rank. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]!
}

export function summarize(samples: number[]): { p50: number; p99: number; n: number } {
  const s = [...samples].sort((a, b) => a - b)
  return { p50: round(percentile(s, 50)), p99: round(percentile(s, 99)), n: s.length }
}

export const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits

/** The middle of a sample (the mean of the two middle values for an even count), rounded. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return round(s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2)
}

/** Writes bench/results/<name>.json and prints it. */
export function writeResult(name: string, result: Record<string, unknown>): void {
  const dir = fileURLToPath(new URL('../results/', import.meta.url))
  mkdirSync(dir, { recursive: true })
  const out = { benchmark: name, date: new Date().toISOString(), node: process.versions.node, ...result }
  writeFileSync(`${dir}${name}.json`, `${JSON.stringify(out, null, 2)}\n`)
  console.log(JSON.stringify(out, null, 2))
}

/** Calls `fn` at a fixed rate for `seconds`, returning each call's latency in ms (open loop). */
export async function fixedRate(
  rate: number,
  seconds: number,
  fn: () => Promise<unknown>,
): Promise<number[]> {
  const lat: number[] = []
  const total = rate * seconds
  const start = performance.now()
  const pending: Promise<void>[] = []
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate
    const wait = due - performance.now()
    if (wait > 1) await new Promise((r) => setTimeout(r, wait))
    const t0 = performance.now()
    pending.push(fn().then(() => void lat.push(performance.now() - t0)))
  }
  await Promise.all(pending)
  return lat
}
