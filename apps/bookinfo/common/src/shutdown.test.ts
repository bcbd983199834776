import { afterEach, describe, expect, it } from 'vitest'
import { silentLogger } from './logger.ts'
import { createApp, listenApp } from './server.ts'
import { handleShutdownSignals } from './shutdown.ts'

// SIGUSR2 stands in for SIGTERM so that the test runner's own handlers are not involved; the
// handler is the same code. process.emit calls the listeners without delivering a real signal.
let remove: (() => void) | undefined
afterEach(() => remove?.())

describe('handleShutdownSignals', () => {
  it('lets a request in flight finish, refuses new connections, then exits 0', async () => {
    const app = createApp()
    let release!: () => void
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    app.get('/slow', async () => {
      await held
      return { done: true }
    })
    const started = await listenApp(app, { port: 0, host: '127.0.0.1' })
    const exits: number[] = []
    remove = handleShutdownSignals(started, silentLogger(), {
      signals: ['SIGUSR2'],
      exit: (c) => exits.push(c),
    })

    const inFlight = fetch(`${started.url}/slow`)
    await new Promise((resolve) => setTimeout(resolve, 50))
    process.emit('SIGUSR2', 'SIGUSR2')
    process.emit('SIGUSR2', 'SIGUSR2') // a second signal while closing changes nothing
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(exits).toEqual([])
    await expect(fetch(`${started.url}/slow`, { headers: { connection: 'close' } })).rejects.toThrow()

    release()
    const res = await inFlight
    expect(res.headers.get('connection')).toBe('close')
    expect(await res.json()).toEqual({ done: true })
    await expect.poll(() => exits).toEqual([0])
  })

  it('exits 1 when closing does not finish in time', async () => {
    const exits: number[] = []
    const never = { close: () => new Promise<void>(() => {}) }
    remove = handleShutdownSignals(never, silentLogger(), {
      signals: ['SIGUSR2'],
      timeoutMs: 50,
      exit: (c) => exits.push(c),
    })
    process.emit('SIGUSR2', 'SIGUSR2')
    await expect.poll(() => exits).toEqual([1])
  })
})
