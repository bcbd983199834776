// Test helper, run as a child process (usually inside a network namespace via `ip netns exec`):
// listens on LISTEN_HOST:LISTEN_PORT, connects to CONNECT_HOST:CONNECT_PORT (which iptables may
// redirect to the listener), and prints one JSON line: what originalDst() said for the accepted
// socket, or the error's code and cause code.
//   node original-dst-probe.ts <listenHost> <listenPort> <connectHost> <connectPort>
import net from 'node:net'
import { originalDst, ProxyNativeError } from '../original-dst.ts'

const [listenHost = '127.0.0.1', listenPort = '0', connectHost = '127.0.0.1', connectPort = ''] =
  process.argv.slice(2)

const server = net.createServer((socket) => {
  let result: unknown
  try {
    result = {
      ok: true,
      dst: originalDst(socket),
      local: { address: socket.localAddress, port: socket.localPort },
    }
  } catch (error) {
    const cause = error instanceof ProxyNativeError ? (error.cause as { code?: string }) : undefined
    result = {
      ok: false,
      code: (error as { code?: string }).code,
      causeCode: cause?.code,
      message: (error as Error).message,
      local: { address: socket.localAddress, port: socket.localPort },
    }
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
  socket.destroy()
  server.close()
})

server.listen(Number(listenPort), listenHost, () => {
  const port = connectPort === '' ? (server.address() as net.AddressInfo).port : Number(connectPort)
  const client = net.connect({ host: connectHost, port })
  client.on('error', (error) => {
    process.stdout.write(`${JSON.stringify({ ok: false, code: 'CONNECT', message: error.message })}\n`)
    process.exit(1)
  })
  client.resume()
})
setTimeout(() => {
  process.stdout.write(`${JSON.stringify({ ok: false, code: 'TIMEOUT' })}\n`)
  process.exit(1)
}, 5000).unref()
