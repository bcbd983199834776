import { describe, expect, it } from 'vitest'
import { PushQueue } from './push-queue.ts'

describe('PushQueue', () => {
  it('runs at most `limit` at once and each item once per add burst', async () => {
    let running = 0
    let peak = 0
    const runs: string[] = []
    const q = new PushQueue<string>(2, async (item) => {
      running++
      peak = Math.max(peak, running)
      runs.push(item)
      await new Promise((r) => setTimeout(r, 20))
      running--
    })
    for (const x of ['a', 'b', 'c', 'd', 'a', 'b']) q.add(x)
    await q.idle()
    expect(peak).toBe(2)
    expect(runs.sort()).toEqual(['a', 'b', 'c', 'd'])
  })

  it('runs an item again when it is added while running (the newest state is never lost)', async () => {
    const runs: string[] = []
    const q = new PushQueue<string>(1, async (item) => {
      runs.push(item)
      await new Promise((r) => setTimeout(r, 20))
    })
    q.add('a')
    await new Promise((r) => setTimeout(r, 5))
    q.add('a')
    q.add('a')
    await q.idle()
    expect(runs).toEqual(['a', 'a'])
  })
})
