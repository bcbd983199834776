// Loopback ports for tests: one the kernel has free now, released again.
import net from 'node:net'

/**
 * A port nothing listens on now: for a server a test starts later on a known port, or for a
 * host whose connections are refused.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const srv = net.createServer()
  await new Promise<void>((r) => srv.listen(0, host, r))
  const port = (srv.address() as net.AddressInfo).port
  await new Promise<void>((r) => srv.close(() => r()))
  return port
}
