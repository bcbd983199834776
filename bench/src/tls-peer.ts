// The peer of the mTLS handshake benchmark: a bare node:tls server with the same certificate,
// client-certificate requirement and mesh roots as the STRICT sidecar, answering each connection
// with a fixed HTTP/1.1 200 and closing. Usage: node tls-peer.ts PORT CERT_DIR
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import tls from 'node:tls'

const [port, certDir] = process.argv.slice(2)
if (!port || !certDir) throw new Error('usage: tls-peer.ts PORT CERT_DIR')
const read = (f: string) => readFileSync(join(certDir, f), 'utf8')
const ANSWER = 'HTTP/1.1 200 OK\r\ncontent-length: 20\r\nconnection: close\r\n\r\nhello from upstream\n'
tls
  .createServer(
    {
      cert: read('chain.pem'),
      key: read('key.pem'),
      ca: read('roots.pem'),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (socket) => {
      socket.on('error', () => socket.destroy())
      socket.once('data', () => socket.end(ANSWER))
    },
  )
  .listen(Number(port), '127.0.0.1')
