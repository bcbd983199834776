// A local TCP listener whose every connection is handed to `dial`, which joins it to a port inside
// a pod (a process in the pod's netns on the local cluster, a port-forward stream on Kubernetes).
import { createServer, type Socket } from 'node:net'

export interface Forwarded {
  /** `127.0.0.1:PORT` on this host. */
  address: string
  /** What it reaches: `default/reviews-v1-abc:9080`. */
  target: string
  close(): Promise<void>
}

export async function forwardPort(
  dial: (socket: Socket) => void,
  target: string,
  listen: { host?: string; port?: number } = {},
): Promise<Forwarded> {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    dial(socket)
  })
  const host = listen.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(listen.port ?? 0, host, () => resolve())
  })
  const port = (server.address() as { port: number }).port
  return {
    address: `${host}:${port}`,
    target,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
