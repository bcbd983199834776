import { fileURLToPath } from 'node:url'
import { spawnMain } from '@minimesh/bookinfo-common/testing'
import { describe, expect, it } from 'vitest'

const main = fileURLToPath(new URL('./main.ts', import.meta.url))

describe('ratings main.ts as a process', () => {
  it('serves v1 and exits 0 on SIGTERM', async () => {
    const proc = await spawnMain(main)
    try {
      const res = await fetch(`${proc.url}/ratings/0`)
      expect(await res.json()).toEqual({ id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } })
    } finally {
      expect(await proc.stop()).toEqual({ code: 0, signal: null })
    }
  })

  it('takes SERVICE_VERSION and RATINGS_DELAY from the environment', async () => {
    const proc = await spawnMain(main, { SERVICE_VERSION: 'v-unavailable', RATINGS_DELAY: '250ms' })
    try {
      expect((await fetch(`${proc.url}/ratings/0`)).status).toBe(503)
      const listening = proc.lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.msg === 'listening')
      expect(listening).toMatchObject({ version: 'v-unavailable', delayMs: 250 })
    } finally {
      expect(await proc.stop()).toEqual({ code: 0, signal: null })
    }
  })

  it('refuses an unknown SERVICE_VERSION', async () => {
    await expect(spawnMain(main, { SERVICE_VERSION: 'v9' })).rejects.toThrow(
      /SERVICE_VERSION=v9 is not one of/,
    )
  })
})
