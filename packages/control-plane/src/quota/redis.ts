import { Redis, type RedisOptions } from 'ioredis'
import {
  type AllocateArgs,
  type AllocateResult,
  counterKey,
  DEDUP_TTL_MS,
  type QuotaBackend,
  SLOT_MS,
} from './backend.ts'

/**
 * Allocation in one atomic step on the Redis server, with the server's clock, so several meshd
 * replicas share one count. Same semantics as the memory backend: 100 ms slots in a hash
 * (field = slot number), slots older than the window dropped; validDuration 0 = a plain counter.
 * KEYS: counter, dedup (or ""). ARGV: amount, max, windowMs, slotMs, bestEffort, dedupTtlMs.
 */
const ALLOCATE = `
local amount = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local slotMs = tonumber(ARGV[4])
local bestEffort = ARGV[5] == '1'
local dedupTtl = tonumber(ARGV[6])
if KEYS[2] ~= '' then
  local seen = redis.call('GET', KEYS[2])
  if seen then return tonumber(seen) end
end
local used = 0
local slot = 0
if window > 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  slot = math.floor(now / slotMs)
  local oldest = slot - math.ceil(window / slotMs) + 1
  local all = redis.call('HGETALL', KEYS[1])
  for i = 1, #all, 2 do
    if tonumber(all[i]) < oldest then
      redis.call('HDEL', KEYS[1], all[i])
    else
      used = used + tonumber(all[i + 1])
    end
  end
else
  used = tonumber(redis.call('GET', KEYS[1]) or '0')
end
local available = max - used
local grant = 0
if amount <= available then grant = amount elseif bestEffort and available > 0 then grant = available end
if grant > 0 then
  if window > 0 then
    redis.call('HINCRBY', KEYS[1], slot, grant)
    redis.call('PEXPIRE', KEYS[1], window + slotMs)
  else
    redis.call('INCRBY', KEYS[1], grant)
  end
end
if KEYS[2] ~= '' then redis.call('SET', KEYS[2], grant, 'PX', dedupTtl) end
return grant
`

const RELEASE = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local released = math.min(used, tonumber(ARGV[1]))
if used - released > 0 then redis.call('SET', KEYS[1], used - released) else redis.call('DEL', KEYS[1]) end
return released
`

export interface RedisBackendOptions {
  url?: string
  options?: RedisOptions
  keyPrefix?: string
}

export class RedisQuotaBackend implements QuotaBackend {
  readonly name = 'redis'
  private readonly redis: Redis
  private readonly prefix: string
  /** The last connection error, for diagnostics. */
  lastError: Error | undefined

  constructor(opts: RedisBackendOptions = {}) {
    this.redis = opts.url
      ? new Redis(opts.url, { lazyConnect: false, ...opts.options })
      : new Redis({ ...opts.options })
    this.prefix = opts.keyPrefix ?? 'minimesh:quota:'
    // Connection errors surface as failed allocations (the proxy fails open or closed); keep the last one.
    this.redis.on('error', (err: Error) => {
      this.lastError = err
    })
    this.redis.defineCommand('mmAllocate', { numberOfKeys: 2, lua: ALLOCATE })
    this.redis.defineCommand('mmRelease', { numberOfKeys: 1, lua: RELEASE })
  }

  async allocate(args: AllocateArgs): Promise<AllocateResult> {
    const key = `${this.prefix}${args.validDurationMs > 0 ? 'w' : 'a'}:${counterKey(args.quota, args.dimensions)}`
    const dedup = args.dedupId ? `${this.prefix}dedup:${args.dedupId}` : ''
    const r = this.redis as unknown as { mmAllocate(...a: (string | number)[]): Promise<number> }
    const granted = await r.mmAllocate(
      key,
      dedup,
      args.amount,
      args.maxAmount,
      args.validDurationMs,
      SLOT_MS,
      args.bestEffort ? '1' : '0',
      DEDUP_TTL_MS,
    )
    return { grantedAmount: Number(granted), validDurationMs: args.validDurationMs }
  }

  async release(
    quota: string,
    dimensions: Readonly<Record<string, string>>,
    amount: number,
  ): Promise<number> {
    const r = this.redis as unknown as { mmRelease(...a: (string | number)[]): Promise<number> }
    return Number(await r.mmRelease(`${this.prefix}a:${counterKey(quota, dimensions)}`, amount))
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect())
  }
}
