// Loopback ports for the benchmarks' processes: a free one, and waiting for a listener.
import net from 'node:net'

/** Ports handed out in this run (never handed out twice). */
const given = new Set<number>()
/** Below the kernel's ephemeral range (32768–60999 by default). */
const LOW = 20_000
const HIGH = 32_000

/**
 * A port free on 127.0.0.1 now, for a child to bind. It is taken below the ephemeral range: a
 * child that binds port 0 (a sidecar's admin and stats ports) can never be given it in the
 * moment between this check and the child binding it, which once made a benchmark measure a
 * sidecar's admin server (404) in place of the sidecar's listener.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW))
    if (given.has(port)) continue
    const s = net.createServer()
    const ok = await new Promise<boolean>((r) => {
      s.once('error', () => r(false))
      s.listen(port, '127.0.0.1', () => r(true))
    })
    if (!ok) continue
    await new Promise<void>((r) => s.close(() => r()))
    given.add(port)
    return port
  }
}

/** Resolves once something accepts connections on 127.0.0.1:port; throws after timeoutMs. */
export async function waitPort(port: number, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1')
      s.once('connect', () => {
        s.destroy()
        resolve(true)
      })
      s.once('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`nothing listening on 127.0.0.1:${port}`)
}
