// Test helper, run inside a network namespace: makes each TCP connection it is given and prints a
// JSON array with the one-line JSON answer of each (or the error).
//   node netns-client.ts '[{"host":"198.18.200.3","port":8080,"localAddress":"127.0.0.6"}]' [uid:gid]
// With uid:gid it re-runs itself as that user and group (ip netns exec needs root; the probe must not).
import { spawn } from 'node:child_process'
import net from 'node:net'
import { fileURLToPath } from 'node:url'

interface Probe {
  host: string
  port: number
  localAddress?: string
}

const [probesJson = '[]', as] = process.argv.slice(2)

function probe({ host, port, localAddress }: Probe): Promise<unknown> {
  return new Promise((resolve) => {
    let data = ''
    const socket = net.connect({ host, port, ...(localAddress ? { localAddress } : {}) })
    socket.setTimeout(3000, () => {
      socket.destroy()
      resolve({ error: 'timeout' })
    })
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      data += chunk
    })
    socket.on('error', (error) => resolve({ error: error.message }))
    socket.on('end', () => {
      try {
        resolve(JSON.parse(data.trim()))
      } catch {
        resolve({ error: `bad answer: ${data}` })
      }
    })
  })
}

if (as) {
  const [uid, gid] = as.split(':').map(Number)
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), probesJson], {
    uid,
    gid,
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  child.on('close', (code) => {
    process.exitCode = code ?? 1
  })
} else {
  const results = []
  for (const p of JSON.parse(probesJson) as Probe[]) results.push(await probe(p))
  process.stdout.write(`${JSON.stringify(results)}\n`)
}
