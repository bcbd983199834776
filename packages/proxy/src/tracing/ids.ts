// Trace and span ids: random bytes from a pool refilled by the CSPRNG 4 KiB at a time, as hex.
// A request costs one or two toString('hex') calls, not a randomBytes() call (a syscall-sized
// allocation) per id.
import { randomFillSync } from 'node:crypto'

const POOL = Buffer.allocUnsafe(4096)
let offset = POOL.length

function take(n: number): number {
  if (offset + n > POOL.length) {
    randomFillSync(POOL)
    offset = 0
  }
  const at = offset
  offset += n
  return at
}

/** 16 random bytes as 32 hex digits (never all zeros: W3C forbids it). */
export function newTraceId(): string {
  const at = take(16)
  const id = POOL.toString('hex', at, at + 16)
  return id === '00000000000000000000000000000000' ? newTraceId() : id
}

/** 8 random bytes as 16 hex digits (never all zeros). */
export function newSpanId(): string {
  const at = take(8)
  const id = POOL.toString('hex', at, at + 8)
  return id === '0000000000000000' ? newSpanId() : id
}
