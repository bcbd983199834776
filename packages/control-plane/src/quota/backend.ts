/** What a quota backend decides: one allocation against one (quota, dimensions) counter. */
export interface AllocateArgs {
  quota: string
  dimensions: Readonly<Record<string, string>>
  amount: number
  maxAmount: number
  /** Rolling window; 0 = allocation quota (counted until released). */
  validDurationMs: number
  dedupId?: string
  bestEffort?: boolean
}

export interface AllocateResult {
  grantedAmount: number
  validDurationMs: number
}

export interface QuotaBackend {
  readonly name: string
  allocate(args: AllocateArgs): Promise<AllocateResult>
  /** Returns amount to an allocation quota; answers what was released. */
  release(quota: string, dimensions: Readonly<Record<string, string>>, amount: number): Promise<number>
  close(): Promise<void>
}

/** Width of one slot of the rolling window. */
export const SLOT_MS = 100
/** How long a dedup id replays its first answer. */
export const DEDUP_TTL_MS = 10_000

/** The counter's key: quota name plus dimensions in a stable order. */
export function counterKey(quota: string, dimensions: Readonly<Record<string, string>>): string {
  const dims = Object.keys(dimensions)
    .sort()
    .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(dimensions[k]!)}`)
    .join('&')
  return `${quota}?${dims}`
}

/** How much to grant out of what is left: all-or-nothing, or what is left with best effort. */
export function grantFrom(available: number, amount: number, bestEffort: boolean | undefined): number {
  if (amount <= available) return amount
  return bestEffort && available > 0 ? available : 0
}
