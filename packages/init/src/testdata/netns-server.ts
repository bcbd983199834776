// Test helper, run inside a network namespace: TCP listeners that answer every connection with one
// JSON line saying who answered and, for "proxy" listeners, the connection's original destination
// (SO_ORIGINAL_DST through @minimesh/proxy's addon, loaded from MESH_ORIGINAL_DST_MODULE).
//   node netns-server.ts '[{"name":"outbound-proxy","port":15001,"mode":"proxy"},{"name":"app","port":9080}]'
// Prints "ready" once every listener is up; runs until killed.
import net from 'node:net'

interface Listener {
  name: string
  port: number
  host?: string
  mode?: 'proxy' | 'echo'
}

type OriginalDst = (socket: net.Socket) => { address: string; port: number; family: number }

const listeners = JSON.parse(process.argv[2] ?? '[]') as Listener[]
const modulePath = process.env.MESH_ORIGINAL_DST_MODULE
const originalDst: OriginalDst | undefined = modulePath
  ? ((await import(modulePath)) as { originalDst: OriginalDst }).originalDst
  : undefined

function answer(listener: Listener, socket: net.Socket): Record<string, unknown> {
  const base = { by: listener.name, localPort: socket.localPort, remote: socket.remoteAddress }
  if (listener.mode !== 'proxy') return base
  if (!originalDst) return { ...base, error: 'MESH_ORIGINAL_DST_MODULE not set' }
  try {
    return { ...base, dst: originalDst(socket) }
  } catch (error) {
    return { ...base, error: (error as Error).message }
  }
}

await Promise.all(
  listeners.map(
    (listener) =>
      new Promise<void>((resolve, reject) => {
        const server = net.createServer((socket) => {
          socket.on('error', () => {})
          socket.end(`${JSON.stringify(answer(listener, socket))}\n`)
        })
        server.once('error', reject)
        server.listen(listener.port, listener.host ?? '::', () => resolve())
      }),
  ),
)
process.stdout.write('ready\n')
