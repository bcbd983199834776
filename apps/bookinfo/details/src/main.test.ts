import { fileURLToPath } from 'node:url'
import { spawnMain } from '@minimesh/bookinfo-common/testing'
import { describe, expect, it } from 'vitest'

const main = fileURLToPath(new URL('./main.ts', import.meta.url))

describe('details main.ts as a process', () => {
  it('serves on PORT, logs JSON and exits 0 on SIGTERM', async () => {
    const proc = await spawnMain(main)
    try {
      const res = await fetch(`${proc.url}/details/7`)
      expect(res.status).toBe(200)
      expect(await res.json()).toMatchObject({ id: 7, author: 'William Shakespeare' })
    } finally {
      expect(await proc.stop('SIGTERM')).toEqual({ code: 0, signal: null })
    }
    const messages = proc.lines.map((line) => JSON.parse(line) as { msg: string; app: string })
    expect(messages.every((m) => m.app === 'details')).toBe(true)
    expect(messages.map((m) => m.msg)).toEqual(
      expect.arrayContaining(['listening', 'shutting down', 'shut down']),
    )
  })

  it('refuses to start on a bad PORT and says why', async () => {
    await expect(spawnMain(main, { PORT: 'ninety' })).rejects.toThrow(/PORT=ninety is not a TCP port/)
  })
})
